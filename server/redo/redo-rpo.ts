/**
 * The recovery point objective of a server right now, per target: what the server would lose if
 * its machine went away this moment and it were rebuilt from that target. A record is held by a
 * target once a shipped segment (ship-redo.ts) or a session there covers it; the RPO is the age
 * of the oldest record it does not hold yet (0 when it holds them all).
 *
 * A target on the mailstore's own machine (a local folder, or an object store reached at a
 * loopback address) is flagged `sameMachine`: it survives a lost database, not a lost machine.
 */
import { readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { isObjectStore } from "../backup/free-space.ts";
import { serverTargets } from "../backup/server-targets.ts";
import { consolePool } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { lastArchivedSeq, listSegments } from "./archive-redo.ts";
import { readSegmentHeader } from "./redo-coverage.ts";

export interface TargetRpo {
  name: string;
  /** The target's place, without its query (no settings in messages). */
  location: string;
  lastShippedSeq: number;
  /** Time of the newest record the target holds. */
  lastShippedAt: string | null;
  unshippedRecords: number;
  rpoSeconds: number;
  sameMachine: boolean;
  /** Since when shipping to it has failed, and why (null when the last attempt worked). */
  failingSince: string | null;
  lastError: string | null;
}

export interface ServerRpo {
  server: string;
  /** The ship interval; 0 when shipping is off. */
  redoShipSeconds: number;
  rpoAlertSeconds: number;
  targets: TargetRpo[];
  /** The RPO against the loss of the machine: the best target off it (null: none is off it). */
  machineLossRpoSeconds: number | null;
}

/** Filesystems whose files live on another machine. */
const NETWORK_FS = /^(nfs4?|cifs|smb3?|smbfs|ceph|glusterfs|lustre|gpfs|beegfs|9p|afs|fuse\.(sshfs|rclone|s3fs|gcsfuse|glusterfs|cephfs))$/;

/** The filesystem type of the mount holding `folder` (from /proc/self/mountinfo), or null when unknown. */
async function mountType(folder: string): Promise<string | null> {
  const info = await readFile("/proc/self/mountinfo", "utf8").catch(() => null);
  if (!info) return null;
  let at = path.resolve(folder);
  for (;;) {
    const real = await realpath(at).catch(() => null);
    if (real) {
      at = real;
      break;
    }
    if (path.dirname(at) === at) break;
    at = path.dirname(at);
  }
  let best: { point: string; type: string } | null = null;
  for (const line of info.split("\n")) {
    const [left, right] = line.split(" - ");
    const point = left?.split(" ")[4]?.replace(/\\040/g, " ");
    const type = right?.split(" ")[0];
    if (!point || !type) continue;
    const inside = point === "/" || at === point || at.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type ?? null;
}

const placeCache = new Map<string, { at: number; same: Promise<boolean> }>();

/** Whether a target's bytes live on this machine, so that they are lost with it (asked again after a minute). */
export function onThisMachine(url: string): Promise<boolean> {
  const known = placeCache.get(url);
  if (known && Date.now() - known.at < 60_000) return known.same;
  const same = sameMachine(url);
  placeCache.set(url, { at: Date.now(), same });
  return same;
}

async function sameMachine(url: string): Promise<boolean> {
  if (isObjectStore(url)) {
    const endpoint = new URL(url).searchParams.get("endpoint");
    if (!endpoint) return false;
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  }
  const type = await mountType(url);
  return type === null || !NETWORK_FS.test(type);
}

interface Pending {
  /** Unshipped records after a sequence number, and the time of the oldest. */
  after(seq: number): Promise<{ records: number; oldest: number | null }>;
}

/** The local redo (sealed segments and the current log) as counts by sequence, read once. */
async function localRedo(serverName: string, archivePath: string): Promise<Pending> {
  const segments: { lastSeq: number; records: number; firstAt: number | null }[] = [];
  for (const s of await listSegments(archivePath)) {
    const header = await readSegmentHeader(path.join(archivePath, s.name));
    segments.push({ ...s, records: header?.recordCount ?? 0, firstAt: header?.firstAt ? Date.parse(header.firstAt) : null });
  }
  const store = await openMailstore(serverName);
  const archived = await lastArchivedSeq(store.pool);
  return {
    async after(seq) {
      let records = 0;
      let oldest: number | null = null;
      for (const s of segments) {
        if (s.lastSeq <= seq || s.records === 0) continue;
        records += s.records;
        oldest ??= s.firstAt;
      }
      const { rows } = await store.pool.query<{ n: number; oldest: Date | null }>("SELECT count(*)::int AS n, min(at) AS oldest FROM mailstore.redo_log WHERE seq > $1", [Math.max(seq, archived)]);
      records += rows[0]!.n;
      oldest ??= rows[0]!.oldest?.getTime() ?? null;
      return { records, oldest };
    },
  };
}

/**
 * The target that says what losing the machine now would lose: the one with the lowest RPO
 * among those off the machine, or among all when every one is on it (`offMachine` false). Null
 * when the server has no target.
 */
export function bestTarget(rpo: Pick<ServerRpo, "targets">): { target: TargetRpo; offMachine: boolean } | null {
  const off = rpo.targets.filter((t) => !t.sameMachine);
  const pool = off.length ? off : rpo.targets;
  if (!pool.length) return null;
  return { target: pool.reduce((a, b) => (b.rpoSeconds < a.rpoSeconds ? b : a)), offMachine: off.length > 0 };
}

export async function redoRpo(serverName: string): Promise<ServerRpo> {
  const server = await getServer(serverName);
  const { rows: shipped } = await consolePool().query<{ target: string; seq: string; at: Date | null; failing_since: Date | null; last_error: string | null }>(
    `SELECT r.target, r.last_shipped_seq::text AS seq, r.last_shipped_at AS at, r.failing_since, r.last_error
       FROM redo_ship r JOIN server v ON v.id = r.server_id WHERE v.name = $1`,
    [server.name],
  );
  // Redo a target holds in sessions counts as well: the primary's completed sessions, a copy
  // target's verified copies.
  const { rows: sessions } = await consolePool().query<{ target: string; seq: string; at: Date | null }>(
    `SELECT 'primary' AS target, max(s.redo_through_seq)::text AS seq, max(s.ended_at) AS at
       FROM backup_session s JOIN server v ON v.id = s.server_id WHERE v.name = $1 AND s.status = 'completed'
     UNION ALL
     SELECT c.target, max(s.redo_through_seq)::text, max(s.ended_at)
       FROM session_copy c JOIN server v ON v.id = c.server_id JOIN backup_session s ON s.server_id = c.server_id AND s.label = c.label
      WHERE v.name = $1 AND c.verified AND s.status = 'completed' GROUP BY c.target`,
    [server.name],
  );
  const pending = await localRedo(server.name, server.redoArchivePath);
  const now = Date.now();
  const targets: TargetRpo[] = [];
  for (const entry of serverTargets(server)) {
    const row = shipped.find((r) => r.target === entry.name);
    const bySession = sessions.find((r) => r.target === entry.name);
    const shippedSeq = Number(row?.seq ?? 0);
    const sessionSeq = Number(bySession?.seq ?? 0);
    const lastShippedSeq = Math.max(shippedSeq, sessionSeq);
    const { records, oldest } = await pending.after(lastShippedSeq);
    targets.push({
      name: entry.name,
      location: entry.url.replace(/\?.*$/, ""),
      lastShippedSeq,
      lastShippedAt: (shippedSeq >= sessionSeq ? row?.at : bySession?.at)?.toISOString() ?? null,
      unshippedRecords: records,
      rpoSeconds: oldest === null ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
      sameMachine: await onThisMachine(entry.url),
      failingSince: row?.failing_since?.toISOString() ?? null,
      lastError: row?.last_error ?? null,
    });
  }
  const best = bestTarget({ targets });
  return {
    server: server.name,
    redoShipSeconds: server.settings.redoShipSeconds,
    rpoAlertSeconds: server.settings.rpoAlertSeconds,
    targets,
    machineLossRpoSeconds: best?.offMachine ? best.target.rpoSeconds : null,
  };
}
