/**
 * The dashboard's per-server facts against real services: free space of the backup target, the
 * redo archive's lag, and the queue's job counts; a server whose mailstore was never set up gets
 * an error for its redo and keeps its other facts, and the other server's answer stands.
 */
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { dashboardFacts } from "./dashboard-facts.ts";

// No workers: the first test wants none, the second starts its own.
const fx = useMailServer();

describe("dashboardFacts", () => {
  it("reports free space, archive lag and jobs per server, and a broken mailstore only for its server", async () => {
    const store = fx.store;
    await createAccount(store, { email: "dash@example.com" });
    await deliverMessage(store, { recipients: ["dash@example.com"], bytes: Buffer.from("Subject: hi\r\n\r\nhi\r\n") });
    await enqueueJob("mail1", "server.ping", { sentAt: new Date().toISOString() }); // no worker runs: it waits

    const facts = await dashboardFacts();
    expect(facts.servers.map((s) => s.server)).toEqual(["mail1", "mail2"]);
    const [mail1, mail2] = facts.servers;
    expect(mail1).toMatchObject({ freeSpaceError: null, redoError: null, jobsError: null, jobs: { active: 0, waiting: 1 } });
    expect(mail1!.freeSpace!.freeBytes).toBeGreaterThan(0);
    expect(mail1!.freeSpace!.totalBytes).toBeGreaterThanOrEqual(mail1!.freeSpace!.freeBytes);
    expect(mail1!.freeSpace).toMatchObject({ minimumBytes: 1024 ** 3, minimumPercent: 5 });
    expect(mail1!.redo!.unarchivedRecords).toBeGreaterThanOrEqual(2);
    expect(mail1!.redo!.lagSeconds).toBeGreaterThanOrEqual(0);

    // mail2's mailstore database does not exist in this test: only its redo fact fails.
    expect(mail2!.redo).toBeNull();
    expect(mail2!.redoError).toMatch(/^mailstore: /);
    expect(mail2!.freeSpace).not.toBeNull();
    expect(mail2!.jobs).toMatchObject({ active: 0 });
    // No worker runs: the console measured the targets itself, and says so.
    expect(mail1!.freeSpace!.measuredBy).toBe("console");
  });

  it("takes a target's free space from the heartbeat of the server's live worker", async () => {
    const workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 1, lmtpPort: 0 }] });
    try {
      // The first beat is published before startWorkers returns.
      const facts = await dashboardFacts();
      const [mail1, mail2] = facts.servers;
      expect(mail1!.freeSpace).toMatchObject({ measuredBy: `worker on ${hostname()}` });
      expect(mail1!.freeSpaceError).toBeNull();
      expect(mail1!.freeSpace!.freeBytes).toBeGreaterThan(0);
      expect(Date.now() - Date.parse(mail1!.freeSpace!.measuredAt)).toBeLessThan(60_000);
      expect(mail2!.freeSpace!.measuredBy).toBe("console");
    } finally {
      await workers.close();
    }
  });
});
