/**
 * A batch of accounts' part of a full backup, in two steps.
 *
 *   snapshotAccounts  one REPEATABLE READ, READ ONLY transaction for the whole batch (so delivery
 *                     goes on, no maintenance mode, and one snapshot): the mailbox rows; the
 *                     digests, counts and row fingerprints of every mailbox in one statement;
 *                     each mailbox's items and tombstones dumped with COPY through gzip (small
 *                     mailboxes of a group share one COPY). An account with no tombstones gets
 *                     an empty dump without a COPY; one unchanged since the last full that holds
 *                     it names that full's dumps (earlier-dumps.ts). Account files are saved
 *                     once per content, as shared objects (target.writeAccountFile).
 *   storeAccount      outside the transaction: each blob the target lacks is read, checked
 *                     against its digest and compressed on the blob I/O threads (blob-io.ts) and
 *                     appended to the batch's pack writer; then the digest list and mailbox.json.
 *
 * A snapshot is exactly the mailbox after its redo record `lastRedoSeq`, change number
 * `changeNumber`: a restore replays this mailbox's records after it.
 */
import { createGzip, gzipSync } from "node:zlib";
import { to as copyTo } from "pg-copy-streams";
import type { PoolClient } from "pg";
import type { AccountDetail } from "../directory/get-account.ts";
import { settleAll } from "../each-limited.ts";
import type { MailboxRow } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { blobIo } from "../repository/blob-io.ts";
import { BlobDigestError, type PackWriter } from "../repository/pack-writer.ts";
import { fingerprintSql, ITEM_COLUMNS, TOMBSTONE_COLUMNS, type BlobList, type EarlierDumps } from "./earlier-dumps.ts";
import { splitByMailbox } from "./split-by-mailbox.ts";
import type { BackupTarget, FileEntry } from "./target.ts";

/** Blobs per request to the blob I/O threads, and requests in flight per account. */
const BLOB_CHUNK = 16;
const CHUNKS_IN_FLIGHT = 2;

/**
 * Mailboxes with up to this many rows of a kind are dumped together, one COPY per mailbox group
 * and batch (a COPY of its own cost each mailbox a round trip and a stream pipeline, about 10 ms
 * on this VM); their rows are held in memory one mailbox at a time.
 */
const SHARED_DUMP_ROWS = 5_000;

/** What `gzip` of an empty COPY gives: the dump of a mailbox without tombstones. */
const EMPTY_DUMP = gzipSync(Buffer.alloc(0), { level: 3 });

export interface AccountBackup {
  accountId: string;
  /** The email the account had when it was backed up. */
  email: string;
  reason: string;
  mailboxId: number;
  changeNumber: number;
  lastRedoSeq: number;
  /** When the snapshot transaction started (ISO). */
  snapshotAt: string;
  items: number;
  messages: number;
  blobs: number;
  blobBytes: number;
  newBlobs: number;
  newBlobBytes: number;
  missingBlobs: string[];
  /** The rows' fingerprint (earlier-dumps.ts), kept in session.json for the next full to compare. */
  fingerprint: string;
  /** The earlier session whose dumps this account's session names (it had not changed since). */
  dumpsFrom?: string;
  /**
   * Blobs the account names that its batch's writer did not see stored (another batch took them
   * on): the session's finish checks these against the repository index before it publishes.
   */
  unconfirmedBlobs?: string[];
  files: FileEntry[];
}

export interface AccountSnapshot {
  accountId: string;
  reason: string;
  mailbox: MailboxRow;
  snapshotAt: string;
  files: FileEntry[];
  digests: { digest: string; size: number }[];
  counts: { items: number; messages: number };
  fingerprint: string;
  dumpsFrom?: string;
  /**
   * The blob list of the last full that holds the unchanged account, standing for `digests`
   * (left empty): that session holds every blob on it (earlier-dumps.ts says when).
   */
  blobList?: BlobList;
}

export async function snapshotAccounts(options: {
  store: Mailstore;
  /** A connection the caller lends for the batch. */
  client: PoolClient;
  target: BackupTarget;
  label: string;
  accounts: { accountId: string; reason: string }[];
  /** Where an unchanged account's dumps can be found. */
  earlier?: EarlierDumps;
  signal?: AbortSignal;
}): Promise<(AccountSnapshot | { accountId: string; skipped: string })[]> {
  const { client, target, label } = options;
  // The batch's account files are saved side by side (on an object store, each is a request;
  // at most two per account of the batch) and awaited together before the snapshot counts as
  // taken. A save that fails is found then, after the rest of the batch was dumped.
  const saving: Promise<void>[] = [];
  const saveLater = (relative: string, bytes: Buffer): FileEntry => {
    const { entry, saved } = target.startAccountFile(relative, bytes);
    saved.catch(() => {}); // awaited below; a failure is not unhandled meanwhile
    saving.push(saved);
    return entry;
  };
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    // The snapshot is taken at the first statement; its time bounds what it can restore to.
    const { rows: clock } = await client.query<{ now: Date }>("SELECT clock_timestamp() AS now");
    const snapshotAt = clock[0]!.now.toISOString();
    const { rows: mailboxes } = await client.query<MailboxRow>("SELECT * FROM mailstore.mailbox WHERE account_id = ANY($1::uuid[])", [
      options.accounts.map((a) => a.accountId),
    ]);
    const byAccount = new Map(mailboxes.map((m) => [m.account_id, m]));

    // Counts and fingerprints of every mailbox of the batch, in one statement: per mailbox
    // group, the items and the tombstones grouped by mailbox.
    const counts = new Map<number, { items: number; messages: number }>();
    const tombstones = new Map<number, { count: number; fingerprint: string }>();
    const itemPrints = new Map<number, string>();
    const byGroup = (rows: MailboxRow[]) => {
      const groups = new Map<number, number[]>();
      for (const m of rows) groups.set(m.group_id, [...(groups.get(m.group_id) ?? []), m.id]);
      return groups;
    };
    const groups = byGroup(mailboxes);
    const parts = [...groups.keys()].map((group, i) => {
      const schema = groupSchema(group);
      return `SELECT 'item' AS part, mailbox_id, count(*) AS n, count(*) FILTER (WHERE type = 'message') AS messages, ${fingerprintSql(ITEM_COLUMNS)} AS fingerprint
                FROM ${schema}.item WHERE mailbox_id = ANY($${i + 1}::bigint[]) GROUP BY mailbox_id
              UNION ALL
              SELECT 'tombstone', mailbox_id, count(*), 0, ${fingerprintSql(TOMBSTONE_COLUMNS)}
                FROM ${schema}.tombstone WHERE mailbox_id = ANY($${i + 1}::bigint[]) GROUP BY mailbox_id`;
    });
    const { rows } = parts.length
      ? await client.query<{ part: "item" | "tombstone"; mailbox_id: number; n: number; messages: number; fingerprint: string }>(parts.join("\n UNION ALL\n"), [...groups.values()])
      : { rows: [] };
    for (const r of rows) {
      if (r.part === "tombstone") tombstones.set(r.mailbox_id, { count: Number(r.n), fingerprint: r.fingerprint });
      else {
        counts.set(r.mailbox_id, { items: Number(r.n), messages: Number(r.messages) });
        itemPrints.set(r.mailbox_id, r.fingerprint);
      }
    }

    const snapshots: (AccountSnapshot | { accountId: string; skipped: string })[] = [];
    const toDump: { snapshot: AccountSnapshot; mailbox: MailboxRow }[] = [];
    const needDigests: AccountSnapshot[] = [];
    for (const { accountId, reason } of options.accounts) {
      if (options.signal?.aborted) throw new Error("aborted");
      const mailbox = byAccount.get(accountId);
      if (!mailbox) {
        snapshots.push({ accountId, skipped: "no mailbox (deleted meanwhile?)" });
        continue;
      }
      const fingerprint = `items ${itemPrints.get(mailbox.id) ?? 0} tombstones ${tombstones.get(mailbox.id)?.fingerprint ?? 0}`;
      const reused = await options.earlier?.reuse(mailbox, fingerprint);
      const snapshot: AccountSnapshot = { accountId, reason, mailbox, snapshotAt, fingerprint, files: reused?.files ?? [], digests: [], counts: counts.get(mailbox.id) ?? { items: 0, messages: 0 } };
      if (reused) snapshot.dumpsFrom = reused.from;
      else toDump.push({ snapshot, mailbox });
      if (reused?.blobList) snapshot.blobList = reused.blobList;
      else needDigests.push(snapshot);
      snapshots.push(snapshot);
    }

    // The blob digests of the mailboxes whose earlier blob list cannot stand for them, in one
    // statement, ordered as blobs.txt lists them.
    const digestGroups = byGroup(needDigests.map((s) => s.mailbox));
    if (digestGroups.size) {
      const snapshotOf = new Map(needDigests.map((s) => [Number(s.mailbox.id), s]));
      const { rows: found } = await client.query<{ mailbox_id: number; digest: string; size: number }>(
        `${[...digestGroups.keys()]
          .map((group, i) => `SELECT mailbox_id, blob_digest AS digest, max(size) AS size FROM ${groupSchema(group)}.item WHERE mailbox_id = ANY($${i + 1}::bigint[]) AND blob_digest IS NOT NULL GROUP BY 1, 2`)
          .join("\n UNION ALL\n")} ORDER BY 1, 2`,
        [...digestGroups.values()],
      );
      for (const r of found) snapshotOf.get(Number(r.mailbox_id))!.digests.push({ digest: r.digest, size: Number(r.size) });
    }

    // The rest are dumped: a mailbox of up to SHARED_DUMP_ROWS rows in one COPY with the
    // batch's others of its group, split by mailbox as it arrives; a larger one in a COPY of its own.
    for (const table of ["item", "tombstone"] as const) {
      const file = table === "item" ? "items.copy.gz" : "tombstones.copy.gz";
      const columns = table === "item" ? ITEM_COLUMNS : TOMBSTONE_COLUMNS;
      const order = table === "item" ? "id" : "item_id";
      const rowsOf = (m: MailboxRow) => (table === "item" ? (counts.get(m.id)?.items ?? 0) : (tombstones.get(m.id)?.count ?? 0));
      const shared = new Map<number, MailboxRow[]>();
      for (const { snapshot, mailbox } of toDump) {
        const rows = rowsOf(mailbox);
        const relative = `accounts/${mailbox.account_id}/${file}`;
        if (rows === 0) snapshot.files.push(saveLater(relative, EMPTY_DUMP));
        else if (rows <= SHARED_DUMP_ROWS) shared.set(mailbox.group_id, [...(shared.get(mailbox.group_id) ?? []), mailbox]);
        else {
          const query = `SELECT ${columns.join(", ")} FROM ${groupSchema(mailbox.group_id)}.${table} WHERE mailbox_id = ${Number(mailbox.id)} ORDER BY ${order}`;
          snapshot.files.push(await target.streamSessionFile(label, relative, client.query(copyTo(`COPY (${query}) TO STDOUT`)), createGzip({ level: 3 })));
        }
      }
      const snapshotOf = new Map(toDump.map((d) => [Number(d.mailbox.id), d.snapshot]));
      for (const [group, members] of shared) {
        const ids = members.map((m) => Number(m.id));
        const query = `SELECT ${columns.join(", ")} FROM ${groupSchema(group)}.${table} WHERE mailbox_id = ANY('{${ids.join(",")}}'::bigint[]) ORDER BY mailbox_id, ${order}`;
        await splitByMailbox(client.query(copyTo(`COPY (${query}) TO STDOUT`)), async (id, rows) => {
          const snapshot = snapshotOf.get(id);
          if (!snapshot) throw new Error(`COPY of ${table} gave rows of mailbox ${id}, which was not asked for`);
          snapshot.files.push(saveLater(`accounts/${snapshot.accountId}/${file}`, gzipSync(rows, { level: 3 })));
        });
        for (const m of members) if (snapshotOf.get(Number(m.id))!.files.length !== (table === "item" ? 1 : 2)) throw new Error(`COPY of ${table} gave no rows of mailbox ${m.id}, which has some`);
      }
    }
    await settleAll(saving);
    await client.query("COMMIT");
    return snapshots;
  } catch (error) {
    await Promise.allSettled(saving);
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

export async function storeAccount(
  snapshot: AccountSnapshot,
  options: {
    store: Mailstore;
    target: BackupTarget;
    directory: AccountDetail | null;
    /** Gzip blobs that compress by at least a tenth (the server's backupCompression setting). */
    compress?: boolean;
    /** The batch's pack writer: new blobs go into its packs. */
    writer: PackWriter;
    /** backup --exclude-blobs: the bodies are named (blobs.txt) but not stored. */
    excludeBlobs?: boolean;
    /** The last full of each account: a blob list or mailbox.json with its bytes is not written again. */
    earlier?: EarlierDumps;
    signal?: AbortSignal;
  },
): Promise<AccountBackup & { digests: string[] }> {
  const { store, target } = options;
  const { accountId, mailbox, snapshotAt, digests, counts } = snapshot;
  const dir = `accounts/${accountId}`;
  const files = [...snapshot.files];

  // The blobs the target lacks, claimed at once so that batches running beside this one leave
  // them to it; then read, checked and compressed on the blob I/O threads a chunk at a time,
  // two chunks in flight, and appended to the batch's pack as they come back.
  const { writer } = options;
  const wanted: string[] = [];
  // An unchanged account's blobs are all in the session that lends its blob list (digests is empty then).
  for (const { digest } of options.excludeBlobs ? [] : digests) {
    if (writer.holds(digest) || (await target.hasBlob(digest))) continue;
    if (writer.claim(digest)) wanted.push(digest);
  }
  let newBlobs = 0;
  let newBlobBytes = 0;
  const missingBlobs: string[] = [];
  const settled = new Set<string>();
  const io = blobIo();
  let next = 0;
  const packChunk = async () => {
    while (next < wanted.length) {
      const chunk = wanted.slice(next, (next += BLOB_CHUNK));
      if (options.signal?.aborted) throw new Error("aborted");
      const result = await io.run("pack", { root: store.blobs.root, digests: chunk, compress: options.compress ?? true });
      for (const digest of result.missing) {
        writer.release(digest);
        settled.add(digest);
        missingBlobs.push(digest);
      }
      const wrong = result.mismatched[0];
      if (wrong) throw new BlobDigestError(wrong.digest, wrong.actual);
      for (const blob of result.blobs) {
        newBlobBytes += await writer.addPrepared(blob);
        newBlobs++;
        settled.add(blob.digest);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, packChunk));
  } catch (error) {
    // What this account claimed and did not store is not the writer's to vouch for.
    for (const digest of wanted) if (!settled.has(digest)) writer.release(digest);
    throw error;
  }

  // Account files are shared by content (target.writeAccountFile): nothing in them may differ
  // between two fulls of an unchanged mailbox (when and why it was taken are in session.json).
  const saving: Promise<void>[] = [];
  const accountFile = async (name: string, bytes: Buffer) => {
    const { entry, saved } = target.startAccountFile(`${dir}/${name}`, bytes, await options.earlier?.known(accountId, `${dir}/${name}`));
    saved.catch(() => {}); // awaited below
    saving.push(saved);
    return entry;
  };
  const blobs = snapshot.blobList ?? { count: digests.length, bytes: digests.reduce((n, d) => n + d.size, 0) };
  try {
    files.push(snapshot.blobList ? snapshot.blobList.entry : await accountFile("blobs.txt", Buffer.from(digests.map((d) => d.digest).join("\n"))));
    const description = {
      accountId,
      email: mailbox.email,
      snapshot: {
        mailboxId: mailbox.id,
        groupId: mailbox.group_id,
        changeNumber: mailbox.change_number,
        lastRedoSeq: mailbox.last_redo_seq,
        itemIdCheckpoint: mailbox.item_id_checkpoint,
        sizeBytes: mailbox.size_bytes,
        quotaBytes: mailbox.quota_bytes,
        emailAtCreation: mailbox.email_at_creation,
        createdAt: mailbox.created_at.toISOString(),
      },
      columns: { items: ITEM_COLUMNS, tombstones: TOMBSTONE_COLUMNS },
      counts: { ...counts, blobs: blobs.count, blobBytes: blobs.bytes },
      missingBlobs,
      directory: options.directory,
    };
    files.push(await accountFile("mailbox.json", Buffer.from(JSON.stringify(description, null, 2))));
  } catch (error) {
    await Promise.allSettled(saving); // nothing of this account's left running once it throws
    throw error;
  }
  await settleAll(saving);
  return {
    accountId,
    email: mailbox.email,
    reason: snapshot.reason,
    mailboxId: mailbox.id,
    changeNumber: mailbox.change_number,
    lastRedoSeq: mailbox.last_redo_seq,
    snapshotAt,
    items: counts.items,
    messages: counts.messages,
    blobs: blobs.count,
    blobBytes: blobs.bytes,
    newBlobs,
    newBlobBytes,
    missingBlobs,
    fingerprint: snapshot.fingerprint,
    ...(snapshot.dumpsFrom ? { dumpsFrom: snapshot.dumpsFrom } : {}),
    files,
    digests: digests.map((d) => d.digest),
  };
}
