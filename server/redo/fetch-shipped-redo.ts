/**
 * Brings shipped redo (ship-redo.ts) back into a server's local archive on a new machine: the
 * segments after what the archive and the catalog's sessions already cover, in order and
 * without a hole, from the target whose run goes furthest, each read through and verified before
 * it is renamed into place. The mailstore's redo sequence is first moved past every number any
 * target holds, so that a new change never reuses one. After this the restore planner, the restore-points timeline and
 * `restore --server --offline` see the shipped redo as they see the local archive.
 */
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { serverTargets } from "../backup/server-targets.ts";
import { BackupTarget, shippedSegmentObject } from "../backup/target.ts";
import { lastCompletedThrough } from "../backup/catalog.ts";
import { prisma } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments, withArchiveLock } from "./archive-redo.ts";
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

export async function fetchShippedRedo(server: Pick<ServerSummary, "name" | "backupTarget" | "settings" | "redoArchivePath">): Promise<FetchedRedo> {
  const store = await openMailstore(server.name);
  // Under the archive lock: an archive run meanwhile would remove the half-fetched temp files
  // and take fetched segments for its own.
  return withArchiveLock(store, async () => {
    const local = await listSegments(server.redoArchivePath);
    const have = Math.max(local.at(-1)?.lastSeq ?? 0, await lastArchivedSeq(store.pool), (await lastCompletedThrough((await prisma().server.findUniqueOrThrow({ where: { name: server.name } })).id)) ?? 0);
    const result: FetchedRedo = { target: null, segments: [], throughSeq: have, throughAt: null, errors: [] };
    // Every target is listed: the redo is fetched from the one whose shipped run goes furthest
    // from here without a hole, and new numbers start past the highest any of them holds (even
    // beyond a hole), so the new installation never reuses one.
    let best: { target: BackupTarget; name: string; chain: string[] } | null = null;
    let highest = have;
    for (const entry of serverTargets(server)) {
      const target = new BackupTarget(entry.url, server.name);
      try {
        const names = await listShipped(target);
        for (const name of names) highest = Math.max(highest, parseSegmentName(name)!.lastSeq);
        const chain: string[] = [];
        let through = have;
        for (const name of names) {
          const range = parseSegmentName(name)!;
          if (range.lastSeq <= through) continue;
          if (range.firstSeq > through + 1) break; // a hole: what follows cannot be replayed
          chain.push(name);
          through = range.lastSeq;
        }
        if (!best || chain.length > best.chain.length) best = { target, name: entry.name, chain };
      } catch (error) {
        result.errors.push(`${entry.name}: ${(error as Error).message}`);
      }
    }
    if (highest > 0) {
      // First: a change recorded while the segments come in must not take a number they hold.
      await store.pool.query("SELECT setval('mailstore.redo_seq', GREATEST($1, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mailstore.redo_seq)))", [highest]);
    }
    if (!best) return result;
    result.target = best.name;
    for (const name of best.chain) {
      const header = await download(best.target, name, server.redoArchivePath);
      result.segments.push(name);
      result.throughSeq = parseSegmentName(name)!.lastSeq;
      result.throughAt = header.lastAt ?? result.throughAt;
    }
    if (result.segments.length) await store.pool.query("UPDATE mailstore.redo_state SET last_archived_seq = GREATEST(last_archived_seq, $1)", [result.throughSeq]);
    return result;
  });
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
