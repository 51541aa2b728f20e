/**
 * What the console shows about a server's mailstore: mailboxes, items, the blob bytes its items
 * reference (each blob once), and the redo log: the current sequence number, the last archived
 * one, and how far the archive lags (records, bytes, seconds since the oldest unarchived record).
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { listSegments } from "../redo/archive-redo.ts";
import { RECORD_SIZE } from "../redo/log-rows.ts";
import type { Mailstore } from "./mailstore.ts";
import { groupSchema } from "./schema.ts";

export interface StoreStatus {
  server: string;
  mailboxGroups: number;
  mailboxes: number;
  items: number;
  messages: number;
  blobs: number;
  blobBytes: number;
  redo: {
    currentSeq: number;
    lastArchivedSeq: number;
    lastArchivedAt: string | null;
    unarchivedRecords: number;
    unarchivedBytes: number;
    lagSeconds: number;
    segments: number;
    archiveBytes: number;
  };
}

export async function storeStatus(store: Mailstore): Promise<StoreStatus> {
  const groups = Array.from({ length: store.groups }, (_, i) => groupSchema(i + 1));
  const items = groups.map((g) => `SELECT type, blob_digest, size FROM ${g}.item`).join(" UNION ALL ");
  const [{ rows: counts }, redo, { rows: mailboxes }] = await Promise.all([
    store.pool.query<{ items: number; messages: number; blobs: number; blob_bytes: string | null }>(
      `WITH all_items AS (${items})
       SELECT count(*) AS items, count(*) FILTER (WHERE type = 'message') AS messages,
              (SELECT count(*) FROM (SELECT DISTINCT blob_digest FROM all_items WHERE blob_digest IS NOT NULL) d) AS blobs,
              (SELECT sum(size) FROM (SELECT DISTINCT ON (blob_digest) size FROM all_items WHERE blob_digest IS NOT NULL) d) AS blob_bytes
         FROM all_items`,
    ),
    redoStatus(store),
    store.pool.query<{ n: number }>("SELECT count(*) AS n FROM mailstore.mailbox"),
  ]);
  const c = counts[0]!;
  return {
    server: store.server,
    mailboxGroups: store.groups,
    mailboxes: mailboxes[0]!.n,
    items: c.items,
    messages: c.messages,
    blobs: c.blobs,
    blobBytes: Number(c.blob_bytes ?? 0),
    redo,
  };
}

/** The redo log's side of the status: current and last archived sequence numbers, and how far the archive lags. */
export async function redoStatus(store: Mailstore): Promise<StoreStatus["redo"]> {
  const { rows } = await store.pool.query<{ current: number; is_called: boolean; last_archived_seq: number; last_archived_at: Date | null; records: number; bytes: string | null; oldest: Date | null }>(
    `SELECT s.last_value AS current, s.is_called, r.last_archived_seq, r.last_archived_at,
            (SELECT count(*) FROM mailstore.redo_log) AS records,
            (SELECT sum(${RECORD_SIZE}) FROM mailstore.redo_log) AS bytes,
            (SELECT min(at) FROM mailstore.redo_log) AS oldest
       FROM mailstore.redo_seq s, mailstore.redo_state r`,
  );
  const segments = await listSegments(store.redoArchivePath);
  const sizes = await Promise.all(segments.map((s) => stat(path.join(store.redoArchivePath, s.name)).then((st) => st.size, () => 0)));
  const r = rows[0]!;
  return {
    currentSeq: r.is_called ? r.current : 0,
    lastArchivedSeq: r.last_archived_seq,
    lastArchivedAt: r.last_archived_at?.toISOString() ?? null,
    unarchivedRecords: r.records,
    unarchivedBytes: Number(r.bytes ?? 0),
    lagSeconds: r.oldest ? Math.max(0, Math.round((Date.now() - r.oldest.getTime()) / 1000)) : 0,
    segments: segments.length,
    archiveBytes: sizes.reduce((a, b) => a + b, 0),
  };
}
