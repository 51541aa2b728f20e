/**
 * The fidelity oracle. During a traffic run, canonical exports of chosen mailboxes are taken in
 * a snapshot together with the mailbox's last redo sequence number; backups and redo archiving
 * happen along the way. Afterwards each mailbox is restored into a prefixed copy at exactly that
 * point and the copy must be identical, by its export and row for row (every stored value, dates
 * to the microsecond): at 20+ points, covered by incrementals, by the
 * archive and by the current log. The sources are left untouched.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { prisma } from "../db/console-db.ts";
import { generateTraffic } from "../demo/generate-traffic.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { archiveRedo } from "../redo/archive-redo.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { storedRows } from "./stored-rows.ts";
import { canonical, exportMailbox, type CanonicalExport } from "./export-mailbox.ts";
import { submitRestore } from "./submit-restore.ts";

// No traffic here: the first traffic runs with the workers already up, in the beforeAll below.
const fx = useMailServer({ accounts: { prefix: "fid", count: 5 }, workers: startWorkers, timeoutMs: 240_000 });
let store: Mailstore;
let accounts: { accountId: string; email: string }[];

interface Point {
  email: string;
  accountId: string;
  seq: number;
  at: string;
  phase: string;
  export: CanonicalExport;
  /** Every stored value, ids and times included: a copy must match these too, not only the export. */
  rows: Awaited<ReturnType<typeof storedRows>>;
}
const points: Point[] = [];

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function backup(type: "full" | "incremental") {
  const { label } = await submitBackup({ server: "mail1", type, accounts: type === "full" ? "all" : undefined });
  const s = await waitFor(async () => {
    const row = await prisma().backupSession.findFirstOrThrow({ where: { label } });
    return !["queued", "running"].includes(row.status) && row;
  }, `backup ${label}`);
  expect(s.status).toBe("completed");
  return label;
}

/** An export and the last redo seq of a mailbox, in one snapshot. */
async function capture(account: { accountId: string; email: string }, phase: string): Promise<void> {
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query("SELECT id, group_id, last_redo_seq FROM mailstore.mailbox WHERE account_id = $1", [account.accountId]);
    const { rows: items } = await client.query(`SELECT * FROM ${groupSchema(rows[0].group_id)}.item WHERE mailbox_id = $1`, [rows[0].id]);
    const stored = await storedRows(client, rows[0]);
    await client.query("COMMIT");
    points.push({ ...account, seq: rows[0].last_redo_seq, at: "", phase, export: canonical(items), rows: stored });
  } finally {
    client.release();
  }
}

async function trafficWithCaptures(phase: string, rounds: number, seed: number) {
  for (let r = 0; r < rounds; r++) {
    await generateTraffic(store, { ops: 60, seed: seed * 100 + r, renames: false, concurrency: 2 });
    await capture(accounts[(seed + r) % accounts.length]!, phase);
  }
}

async function restoreCopy(point: Point, prefix: string) {
  const submitted = await submitRestore({ server: "mail1", accounts: [point.email], restoreToRedoSeq: point.seq, copy: true, prefix, requestedBy: "test" });
  if (submitted.dryRun) throw new Error("not a run");
  const run = await waitFor(async () => {
    const row = await prisma().restoreRun.findUniqueOrThrow({ where: { id: submitted.runId } });
    return !["queued", "running", "failing"].includes(row.status) && row;
  }, `restore ${submitted.label}`);
  return { run, plan: submitted.plan };
}

beforeAll(async () => {
  ({ store, accounts } = fx);
  await generateTraffic(store, { ops: 150, seed: 1, renames: false, concurrency: 2 });
  await backup("full");
  await trafficWithCaptures("incremental 1", 6, 2);
  await backup("incremental");
  await trafficWithCaptures("incremental 2", 6, 3);
  await backup("incremental");
  await trafficWithCaptures("archive", 6, 4);
  await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
  await trafficWithCaptures("current log", 6, 5);
}, 240_000);

describe("restore fidelity", () => {
  it("restores each captured point into a prefixed copy identical to the capture", async () => {
    expect(points.length).toBeGreaterThanOrEqual(20);
    const before = await Promise.all(accounts.map(async (a) => ({ export: await exportMailbox(store, a), row: (await store.pool.query("SELECT change_number, size_bytes FROM mailstore.mailbox WHERE account_id = $1", [a.accountId])).rows[0] })));
    // Where each point's redo comes from, planned before any restore changes the picture (each
    // restore queues a full backup of its copy, which moves redo into a new session).
    const sources = new Set<string>();
    for (const point of points) {
      const dry = await submitRestore({ server: "mail1", accounts: [point.email], restoreToRedoSeq: point.seq, copy: true, prefix: "dry_", dryRun: true });
      const account = dry.plan.accounts[0]!;
      const archivedThrough = account.redo.archive?.throughSeq ?? account.redo.sessions.at(-1)?.throughSeq ?? 0;
      sources.add(point.seq > archivedThrough ? "current log" : account.redo.archive && point.seq > account.redo.archive.afterSeq ? "archive" : "incremental");
    }
    expect([...sources].sort()).toEqual(["archive", "current log", "incremental"]);
    for (const [i, point] of points.entries()) {
      const { run } = await restoreCopy(point, `p${i}_`);
      expect(run.status, `${point.phase} ${point.email}@${point.seq}: ${run.error}`).toBe("completed");
      const copy = await store.pool.query("SELECT id, group_id, account_id FROM mailstore.mailbox WHERE email = $1", [`p${i}_${point.email}`]);
      expect(await exportMailbox(store, { accountId: copy.rows[0].account_id }), `${point.phase} ${point.email}@${point.seq}`).toEqual(point.export);
      // Row for row: ids, change numbers, flags, tag order, and every date to the microsecond.
      expect(await storedRows(store.pool, copy.rows[0]), `${point.phase} ${point.email}@${point.seq}: stored values`).toEqual(point.rows);
    }
    // The sources were not touched by any of it.
    const after = await Promise.all(accounts.map(async (a) => ({ export: await exportMailbox(store, a), row: (await store.pool.query("SELECT change_number, size_bytes FROM mailstore.mailbox WHERE account_id = $1", [a.accountId])).rows[0] })));
    expect(after).toEqual(before);
  });
});
