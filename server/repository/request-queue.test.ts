import { describe, expect, it } from "vitest";
import { requestQueue } from "./request-queue.mjs";

interface Request {
  id: number;
  op: string;
}

/** A queue whose requests each wait to be let go; `log` says when each started and ended. */
function harness() {
  const log: string[] = [];
  const release = new Map<number, () => void>();
  const queue = requestQueue<Request>({
    atOnce: 2,
    alone: new Set(["unpack"]),
    serve: ({ id, op }) => {
      log.push(`start ${op}${id}`);
      return new Promise<void>((resolve) => release.set(id, () => (log.push(`end ${op}${id}`), resolve())));
    },
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const finish = async (id: number) => {
    release.get(id)!();
    await settle();
  };
  return { log, queue, finish, settle };
}

describe("requestQueue", () => {
  it("starts requests in the order they come, two at a time", async () => {
    const { log, queue, finish } = harness();
    for (let id = 1; id <= 4; id++) queue.push({ id, op: "pack" });
    expect(log).toEqual(["start pack1", "start pack2"]);
    await finish(2);
    expect(log.slice(2)).toEqual(["end pack2", "start pack3"]);
    await finish(1);
    await finish(3);
    await finish(4);
    expect(log.filter((l) => l.startsWith("start"))).toEqual(["start pack1", "start pack2", "start pack3", "start pack4"]);
  });

  it("runs an unpack alone: it waits for what runs, and nothing starts beside it", async () => {
    const { log, queue, finish } = harness();
    queue.push({ id: 1, op: "pack" });
    queue.push({ id: 2, op: "unpack" });
    queue.push({ id: 3, op: "pack" });
    expect(log).toEqual(["start pack1"]); // the unpack waits, and the pack after it keeps its place
    await finish(1);
    expect(log.slice(1)).toEqual(["end pack1", "start unpack2"]);
    await finish(2);
    expect(log.slice(3)).toEqual(["end unpack2", "start pack3"]);
    await finish(3);
  });

  it("goes on after a request that fails", async () => {
    const started: number[] = [];
    const queue = requestQueue<Request>({
      atOnce: 1,
      alone: new Set(),
      serve: async ({ id }) => {
        started.push(id);
        if (id === 1) throw new Error("disk full");
      },
    });
    queue.push({ id: 1, op: "pack" });
    queue.push({ id: 2, op: "pack" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2]);
  });
});
