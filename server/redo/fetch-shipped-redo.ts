/**
 * Brings shipped redo (ship-redo.ts) back into a server's local archive on a new machine: the
 * segments a target holds after what the archive and the catalog's sessions already cover, in
 * order and without a hole, each read through and verified before it is renamed into place.
 * Then the mailstore's redo sequence is moved past them, so that a new change never reuses a
 * number the redo already holds. After this the restore planner, the restore-points timeline and
 * `restore --server --offline` see the shipped redo as they see the local archive.
 */
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { serverTargets } from "../backup/server-targets.ts";
import { BackupTarget, shippedSegmentObject } from "../backup/target.ts";
import { consolePool } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments } from "./archive-redo.ts";
import { readSegment, parseSegmentName, type SegmentHeader } from "./segment-format.ts";
import { listShipped } from "./ship-redo.ts";

export interface FetchedRedo {
  /** The target read from. */
  target: string | null;
  segments: string[];
  /** The newest sequence number now held here, and the time of its record. */
  throughSeq: number;
  throughAt: string | null;
  /** Why a target could not be read, when none could. */
  errors: string[];
}

async function sessionsThrough(serverName: string): Promise<number> {
  const { rows } = await consolePool().query<{ seq: string | null }>(
    "SELECT max(s.redo_through_seq)::text AS seq FROM backup_session s JOIN server v ON v.id = s.server_id WHERE v.name = $1 AND s.status = 'completed'",
    [serverName],
  );
  return Number(rows[0]?.seq ?? 0);
}

export async function fetchShippedRedo(server: Pick<ServerSummary, "name" | "backupTarget" | "settings" | "redoArchivePath">): Promise<FetchedRedo> {
  const store = await openMailstore(server.name);
  const local = await listSegments(server.redoArchivePath);
  const have = Math.max(local.at(-1)?.lastSeq ?? 0, await lastArchivedSeq(store.pool), await sessionsThrough(server.name));
  const result: FetchedRedo = { target: null, segments: [], throughSeq: have, throughAt: null, errors: [] };
  for (const entry of serverTargets(server)) {
    const target = new BackupTarget(entry.url, server.name);
    try {
      const names = (await listShipped(target)).filter((name) => parseSegmentName(name)!.lastSeq > result.throughSeq);
      for (const name of names) {
        const range = parseSegmentName(name)!;
        if (range.firstSeq > result.throughSeq + 1) break; // a hole: what follows cannot be replayed
        const header = await download(target, name, server.redoArchivePath);
        result.segments.push(name);
        result.throughSeq = range.lastSeq;
        result.throughAt = header.lastAt ?? result.throughAt;
      }
      result.target = entry.name;
      break;
    } catch (error) {
      result.errors.push(`${entry.name}: ${(error as Error).message}`);
    }
  }
  if (result.throughSeq > 0) {
    // New changes start after every number the redo holds; the archive is sealed through it.
    await store.pool.query("SELECT setval('mailstore.redo_seq', GREATEST($1, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mailstore.redo_seq)))", [result.throughSeq]);
    await store.pool.query("UPDATE mailstore.redo_state SET last_archived_seq = GREATEST(last_archived_seq, $1)", [result.throughSeq]);
  }
  return result;
}

/** One segment into the archive folder: written under a temporary name, verified whole, synced, renamed. */
async function download(target: BackupTarget, name: string, archive: string): Promise<SegmentHeader> {
  const object = shippedSegmentObject(name);
  const temp = path.join(archive, `.tmp-${name}`);
  const file = await open(temp, "w+");
  try {
    const info = await target.backend.stat(object);
    if (!info) throw new Error(`${object} went away while it was read`);
    const chunk = 8 << 20;
    for (let offset = 0; offset < info.size; offset += chunk) await file.write(await target.backend.read(object, { offset, length: Math.min(chunk, info.size - offset) }));
    await file.sync();
    let header: SegmentHeader | null = null;
    for await (const entry of readSegment(name, file)) if ("header" in entry) header = entry.header;
    await file.close();
    await rename(temp, path.join(archive, name));
    return header!;
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}
