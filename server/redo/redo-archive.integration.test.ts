/**
 * The redo log under load: concurrent writers, transactions that commit late or roll back, and
 * two archivers running at once. Afterwards every sequence number is accounted for exactly once
 * (as a record or as a rolled-back void) across the segments and the remaining log, and each
 * committed operation's record is there. Also: damage is reported with file and offset, and a
 * crash between sealing a segment and deleting its rows duplicates nothing.
 */
import { open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { consolePool } from "../db/console-db.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { setFlags } from "../mailstore/item-operations.ts";
import { commitChange, lockMailbox, MailboxTx } from "../mailstore/mailbox-tx.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { archiveRedo, listSegments, lockArchiveShared } from "./archive-redo.ts";
import { readRedo } from "./read-redo.ts";
import { verifyRedo } from "./verify-redo.ts";

// The accounts are made below, each with its first message before the next account.
const fx = useMailServer({ timeoutMs: 180_000 });
let store: Mailstore;
const accounts: { accountId: string; email: string; messageId: number }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}
const ARCHIVE = { force: true, maxBytes: 1, maxAgeSeconds: 1, segmentBytes: 64 * 1024 };

beforeAll(async () => {
  store = fx.store;
  for (let i = 0; i < 6; i++) {
    const account = await createAccount(store, { email: `user${i}@example.com` });
    const { delivered } = await deliverMessage(store, { recipients: [account.email], bytes: mime(i) });
    accounts.push({ ...account, messageId: delivered[0]!.itemId });
  }
});

async function lastSeqs(): Promise<{ archived: number; inLog: number }> {
  const { rows } = await store.pool.query<{ archived: number; in_log: number }>(
    "SELECT (SELECT last_archived_seq FROM mailstore.redo_state) AS archived, (SELECT count(*)::int FROM mailstore.redo_log) AS in_log",
  );
  return { archived: rows[0]!.archived, inLog: rows[0]!.in_log };
}

function mime(n: number): Buffer {
  return Buffer.from(`From: a@example.net\r\nSubject: message ${n}\r\n\r\n${"body ".repeat(n % 50)}\r\n`);
}

/** A real operation whose transaction stays open after drawing its sequence number. */
async function slowOperation(accountId: string, holdMs: number, rollback: boolean): Promise<number | null> {
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN");
    const tx = new MailboxTx(client, await lockMailbox(client, { accountId }));
    const messageId = accounts.find((a) => a.accountId === accountId)!.messageId;
    await client.query(`UPDATE ${tx.items} SET flags = flags | 1, change_number = $3 WHERE mailbox_id = $1 AND id = $2`, [tx.mailbox.id, messageId, tx.changeNumber]);
    const { seq } = await commitChange(store, tx, "SetFlags", { itemIds: [messageId], set: 1, clear: 0 });
    await sleep(holdMs);
    await client.query(rollback ? "ROLLBACK" : "COMMIT");
    return rollback ? null : seq;
  } finally {
    client.release();
  }
}

describe("archiving while writers write", () => {
  it("never skips or duplicates a committed record", async () => {
    const committed = new Set<number>();
    let rolledBack = 0;
    let writing = true;
    const writers = accounts.map(async (account, w) => {
      for (let n = 0; n < 120; n++) {
        if (n % 17 === 5) {
          const seq = await slowOperation(account.accountId, 20 + (n % 4) * 40, n % 34 === 5);
          if (seq === null) rolledBack++;
          else committed.add(seq);
          continue;
        }
        if (n % 3 === 0) {
          const other = accounts[(w + 1) % accounts.length]!;
          const d = await deliverMessage(store, { recipients: [account.email, other.email], bytes: mime(n) });
          for (const r of d.delivered) committed.add(r.seq!);
        } else {
          const r = await setFlags(store, { accountId: account.accountId }, { itemIds: [account.messageId], flags: { read: n % 2 === 0 } });
          committed.add(r.seq!);
        }
      }
    });
    const archivers = [0, 1].map(async () => {
      const results = [];
      while (writing) {
        results.push(await archiveRedo(store, ARCHIVE));
        await sleep(15);
      }
      return results;
    });
    await Promise.all(writers);
    writing = false;
    const runs = (await Promise.all(archivers)).flat();
    expect(runs.some((r) => r.status === "archived" && r.segments.length > 0)).toBe(true);

    // Leave some records in the table: the stream must join the segments and the current log.
    for (const account of accounts.slice(0, 5)) {
      committed.add((await setFlags(store, { accountId: account.accountId }, { itemIds: [account.messageId], flags: { flagged: true } })).seq!);
    }
    const report = await verifyRedo(store);
    expect(report.currentLog.records).toBeGreaterThanOrEqual(5);
    expect(report.problems).toEqual([]);
    expect(report.segments).toBeGreaterThan(1);
    expect(report.currentLog.pending).toBe(0);
    expect(report.records + report.currentLog.records).toBe(report.lastSeq! - report.firstSeq! + 1 - report.voids);
    expect(report.voids).toBe(rolledBack);

    const seqs: number[] = [];
    for await (const record of readRedo(store)) seqs.push(record.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const seq of committed) expect(seqs).toContain(seq);

    const final = await archiveRedo(store, ARCHIVE);
    expect(final.status).toBe("archived");
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM mailstore.redo_log");
    expect(rows[0].n).toBe(0);
    expect((await verifyRedo(store)).problems).toEqual([]);
  });

  it("waits for a transaction that drew a lower number before archiving past it", async () => {
    const a = accounts[0]!;
    const slow = slowOperation(a.accountId, 600, false);
    await sleep(100);
    const fast = await setFlags(store, { accountId: accounts[1]!.accountId }, { itemIds: [accounts[1]!.messageId], flags: { read: true } });
    const early = await archiveRedo(store, { ...ARCHIVE, horizonTimeoutMs: 100 });
    expect(early.status).toBe("waiting-for-transactions");
    const slowSeq = await slow;
    expect(slowSeq!).toBeLessThan(fast.seq!);
    await archiveRedo(store, ARCHIVE);
    const seqs: number[] = [];
    for await (const r of readRedo(store, { fromSeq: slowSeq! })) seqs.push(r.seq);
    expect(seqs).toEqual([slowSeq, fast.seq]);
  });

  it("lets go of its connection and lock when a reader stops early, even mid-COPY", async () => {
    for (let n = 0; n < 6; n++) await setFlags(store, { accountId: accounts[5]!.accountId }, { itemIds: [accounts[5]!.messageId], flags: { read: n % 2 === 0 } });
    // More early stops than the pool has connections: none may be left behind.
    for (let i = 0; i < 15; i++) {
      for await (const record of readRedo(store, { accountIds: [accounts[5]!.accountId] }, { withBlobs: true })) {
        expect(record.accountId).toBe(accounts[5]!.accountId);
        break;
      }
    }
    expect(store.pool.totalCount - store.pool.idleCount).toBe(0);
    expect((await archiveRedo(store, ARCHIVE)).status).toBe("archived");
  });

  it("does not wait for a transaction in another database of the cluster", async () => {
    const other = await consolePool().connect();
    try {
      // The console database, with a transaction older than anything the archiver draws.
      await other.query("BEGIN");
      await other.query("SELECT pg_current_xact_id()");
      await setFlags(store, { accountId: accounts[4]!.accountId }, { itemIds: [accounts[4]!.messageId], flags: { read: false } });
      const result = await archiveRedo(store, { ...ARCHIVE, horizonTimeoutMs: 2_000 });
      expect(result.status).toBe("archived");
    } finally {
      await other.query("ROLLBACK");
      other.release();
    }
  });

  it("answers busy while a reader holds the log, and a run asked to wait seals once the reader is done", async () => {
    await setFlags(store, { accountId: accounts[3]!.accountId }, { itemIds: [accounts[3]!.messageId], flags: { read: true } });
    const release = await lockArchiveShared(store);
    let waited: Promise<Awaited<ReturnType<typeof archiveRedo>>>;
    try {
      expect((await archiveRedo(store, ARCHIVE)).status).toBe("busy");
      expect((await archiveRedo(store, { ...ARCHIVE, lockWaitMs: 50 })).status).toBe("busy");
      waited = archiveRedo(store, { ...ARCHIVE, lockWaitMs: 60_000 });
      // The waiting run is queued on the lock, not finished: release only once Postgres shows it waiting.
      await waitFor(async () => {
        const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        return rows[0].n > 0;
      });
    } finally {
      await release();
    }
    const result = await waited;
    expect(result.status).toBe("archived");
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM mailstore.redo_log");
    expect(rows[0].n).toBe(0);
  });
});

describe("damage and crashes", () => {
  it("reports a flipped byte with its file and offset", async () => {
    const [segment] = (await listSegments(store.redoArchivePath)).slice(-1);
    const file = path.join(store.redoArchivePath, segment!.name);
    const original = await readFile(file);
    const offset = Math.floor(original.length / 2);
    const damaged = Buffer.from(original);
    damaged[offset] = damaged[offset]! ^ 0xff;
    await writeFile(file, damaged);
    try {
      const report = await verifyRedo(store);
      expect(report.ok).toBe(false);
      const problem = report.problems.find((p) => p.kind === "damaged")!;
      expect(problem.file).toBe(segment!.name);
      expect(problem.offset).toBeLessThanOrEqual(offset);
      expect(problem.offset).toBeGreaterThan(offset - 70_000);
    } finally {
      await writeFile(file, original);
    }
    expect((await verifyRedo(store)).ok).toBe(true);
  });

  it("finishes a run that crashed after sealing a segment, without duplicating its records", async () => {
    for (let n = 0; n < 10; n++) await setFlags(store, { accountId: accounts[2]!.accountId }, { itemIds: [accounts[2]!.messageId], flags: { flagged: n % 2 === 0 } });
    await expect(
      archiveRedo(store, {
        ...ARCHIVE,
        onSegmentSealed: () => {
          throw new Error("simulated crash");
        },
      }),
    ).rejects.toThrow("simulated crash");
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM mailstore.redo_log");
    expect(rows[0].n).toBeGreaterThan(0); // sealed, but its rows are still in the table

    const during = await verifyRedo(store);
    expect(during.problems).toEqual([]); // the reader takes them from the segment only

    await archiveRedo(store, ARCHIVE);
    const after = await verifyRedo(store);
    expect(after.problems).toEqual([]);
    expect(after.currentLog.records).toBe(0);
    const seqs: number[] = [];
    for await (const r of readRedo(store)) seqs.push(r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("gives the same records from the current log and from the segment they are sealed into, as Postgres renders them", async () => {
    await archiveRedo(store, ARCHIVE);
    const account = accounts[3]!;
    // A payload with text that needs escaping, a delivery with bytes, and a few flag changes.
    await deliverMessage(store, { recipients: [account.email], bytes: Buffer.from('Subject: "quoted" \\ and ünïcode\r\n\r\nbody\r\n') });
    for (let n = 0; n < 3; n++) await setFlags(store, { accountId: account.accountId }, { itemIds: [account.messageId], flags: { read: n % 2 === 0 } });
    const filter = { accountIds: [account.accountId], fromSeq: (await lastSeqs()).archived + 1 };
    const fromLog = [];
    for await (const r of readRedo(store, filter, { withBlobs: true })) fromLog.push(r);
    expect(fromLog.length).toBe(4);
    // Postgres's own rendering of the same rows: what segments held before Node rendered them.
    const { rows } = await store.pool.query<{ meta: Record<string, unknown> }>(
      `SELECT json_build_object('seq', seq, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'txid', txid::text,
              'mailboxId', mailbox_id, 'accountId', account_id, 'changeNumber', change_number, 'op', op, 'payload', payload) AS meta
         FROM mailstore.redo_log WHERE account_id = $1 AND seq >= $2 ORDER BY seq`,
      [account.accountId, filter.fromSeq],
    );
    expect(fromLog.map(({ blob: _blob, ...meta }) => meta)).toEqual(rows.map((r) => r.meta));
    expect(fromLog[0]!.blob?.toString()).toContain("ünïcode");

    await archiveRedo(store, ARCHIVE);
    expect((await lastSeqs()).inLog).toBe(0);
    const fromSegments = [];
    for await (const r of readRedo(store, filter, { withBlobs: true })) fromSegments.push(r);
    expect(fromSegments).toEqual(fromLog);
  });

  it("seals a delivery's bytes from the blob volume into its segment, and reports a blob the volume lost rather than sealing without a word", async () => {
    await archiveRedo(store, ARCHIVE);
    const [a, b] = [accounts[1]!, accounts[2]!];
    const kept = Buffer.from("Subject: kept\r\n\r\nthe volume still has these bytes\r\n");
    const lost = Buffer.from("Subject: lost\r\n\r\nthe volume loses these bytes before the archiver runs\r\n");
    const first = await deliverMessage(store, { recipients: [a.email, b.email], bytes: kept });
    const second = await deliverMessage(store, { recipients: [a.email], bytes: lost });
    const { rows } = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM mailstore.redo_log WHERE blob IS NOT NULL");
    expect(rows[0]!.n).toBe(0); // the log holds no message bytes
    await rm(store.blobs.path(second.digest));

    const result = await archiveRedo(store, ARCHIVE);
    expect(result.blobsMissing).toEqual([second.digest]);
    expect((await lastSeqs()).inLog).toBe(0);
    const sealed = new Map<number, Buffer | undefined>();
    for await (const r of readRedo(store, { fromSeq: first.delivered[0]!.seq! }, { withBlobs: true })) sealed.set(r.seq, r.blob);
    const [carrier, named] = first.delivered.map((d) => d.seq!).sort((x, y) => x - y);
    expect(sealed.get(carrier!)).toEqual(kept); // once, in the first recipient's record
    expect(sealed.get(named!)).toBeUndefined();
    expect(sealed.has(second.delivered[0]!.seq!)).toBe(true);
    expect(sealed.get(second.delivered[0]!.seq!)).toBeUndefined(); // sealed without bytes it never had, and reported
    await store.blobs.put(lost);
  });

  it("cleans up a half-written segment left by a crash", async () => {
    const stray = path.join(store.redoArchivePath, ".tmp-redo-20260101.000000.000-seq1-2.log");
    await (await open(stray, "w")).close();
    await archiveRedo(store, ARCHIVE);
    await expect(readFile(stray)).rejects.toThrow();
  });
});
