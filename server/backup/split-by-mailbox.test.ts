import { describe, expect, it } from "vitest";
import { splitByMailbox } from "./split-by-mailbox.ts";

async function split(chunks: string[]): Promise<[number, string][]> {
  const out: [number, string][] = [];
  await splitByMailbox(
    (async function* () {
      for (const c of chunks) yield Buffer.from(c);
    })(),
    async (id, rows) => {
      out.push([id, rows.toString()]);
    },
  );
  return out;
}

describe("splitByMailbox", () => {
  const rows = "7\t1\tmessage\ta\\nb\n7\t2\tfolder\t\\t\n12\t1\tmessage\tx\n300\t5\ttag\ty\n";
  const expected: [number, string][] = [
    [7, "7\t1\tmessage\ta\\nb\n7\t2\tfolder\t\\t\n"],
    [12, "12\t1\tmessage\tx\n"],
    [300, "300\t5\ttag\ty\n"],
  ];

  it("hands over each mailbox's rows whole, however the COPY's chunks fall", async () => {
    expect(await split([rows])).toEqual(expected);
    for (let cut = 1; cut < rows.length; cut++) expect(await split([rows.slice(0, cut), rows.slice(cut)]), `cut at ${cut}`).toEqual(expected);
    expect(await split(rows.split(""))).toEqual(expected);
  });

  it("hands over nothing for no rows, and refuses a COPY that ends inside a row", async () => {
    expect(await split([])).toEqual([]);
    await expect(split(["7\t1\tmessage\n7\t2"])).rejects.toThrow(/middle of a row/);
  });
});
