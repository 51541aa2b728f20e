/**
 * Losing a whole server: its mailstore database dropped, its blob volume wiped and its accounts
 * gone from the directory. `restore --server --offline` brings the directory entries back from
 * the newest session and every mailbox from the backups, identical to what was backed up.
 */
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { startWorkers, type WorkerSet } from "../../workers/start-workers.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { withDatabase } from "../config.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { dropDatabase } from "../db/databases.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount, renameAccount } from "../mailstore/account-operations.ts";
import { closeMailstores, openMailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { exportMailbox, type CanonicalExport } from "./export-mailbox.ts";
import { restoreServer } from "./restore-server.ts";

// Just the set-up: the test makes its accounts and starts its workers itself.
const fx = useMailServer<WorkerSet>();

async function settle(): Promise<void> {
  for (let i = 0; i < 900; i++) {
    const busy = (await prisma().backupSession.count({ where: { status: { in: ["queued", "running"] } } })) + (await prisma().restoreRun.count({ where: { status: { in: ["queued", "running", "failing"] } } }));
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("jobs did not settle");
}

describe("whole-server recovery", () => {
  it("rebuilds the directory entries and every mailbox from the backups", async () => {
    let store = await openMailstore("mail1");
    const accounts = [];
    for (let i = 0; i < 5; i++) accounts.push(await createAccount(store, { email: `srv${i}@example.com` }));
    await renameAccount(store, { accountId: accounts[0]!.accountId, newEmail: "srv0.renamed@example.com" });
    await generateTraffic(store, { ops: 250, seed: 9, renames: false, concurrency: 2 });
    fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });
    await submitBackup({ server: "mail1", type: "full", accounts: "all" });
    await settle();
    const before = new Map<string, CanonicalExport>();
    for (const a of accounts) before.set(a.accountId, await exportMailbox(store, { accountId: a.accountId }));
    const { rows: seqBefore } = await store.pool.query("SELECT last_value FROM mailstore.redo_seq");

    // The disaster: mailstore database, blob volume and directory entries gone.
    await fx.workers.close();
    await closeMailstores();
    const server = await getServer("mail1");
    await dropDatabase(withDatabase(fx.env.databaseUrl, server.mailstoreDatabase));
    await rm(server.blobVolumePath, { recursive: true, force: true });
    const { rowCount: lost } = await consolePool().query("DELETE FROM account WHERE server_id = (SELECT id FROM server WHERE name = 'mail1')");

    fx.workers = await startWorkers({ servers: [{ name: "mail1", concurrency: 2 }] });
    const rebuilt = await restoreServer({ server: "mail1", requestedBy: "test" });
    expect(rebuilt.directoryAccountsRestored).toBe(lost);
    expect(rebuilt.sequenceFrom).toBeGreaterThan(Number(seqBefore[0].last_value));
    await settle();
    if (rebuilt.restore.dryRun) throw new Error("not a run");
    const run = await prisma().restoreRun.findUniqueOrThrow({ where: { id: rebuilt.restore.runId } });
    expect(run.status, run.error ?? "").toBe("completed");

    store = await openMailstore("mail1");
    for (const a of accounts) expect(await exportMailbox(store, { accountId: a.accountId })).toEqual(before.get(a.accountId));
    const renamed = await prisma().account.findUniqueOrThrow({ where: { id: accounts[0]!.accountId }, include: { names: true } });
    expect(renamed.email).toBe("srv0.renamed@example.com");
    expect(renamed.names.map((n) => n.email).sort()).toEqual(["srv0.renamed@example.com", "srv0@example.com"]);
    await expect(restoreServer({ server: "mail1", requestedBy: "test" })).rejects.toThrow(/not empty/);
  });
});
