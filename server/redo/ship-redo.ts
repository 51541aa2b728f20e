/**
 * Redo shipping: every sealed segment of a server's redo archive is sent to each of its targets
 * (the primary and the copy targets) as `redo/<segment name>`, through the target's backend, so
 * encrypted where the target is. The archiver seals at least every `redoShipSeconds` while
 * records wait (archive-server-redo.ts), and ships right after, so losing the machine loses at
 * most about that much mail (the RPO, redo-rpo.ts).
 *
 * - Atomic and idempotent: a backend save is all or nothing, and a segment's name fixes its
 *   content (its sequence range), so a segment shipped twice after a crash is one object. A
 *   segment is sent once the target's listing lacks it.
 * - In order, per target: segments go oldest first and a target stops at its first failure, so
 *   what a target holds beyond its floor is always a run without holes.
 * - Never in the way of delivery: it reads sealed files only, and a failing target waits with
 *   backoff (2 s doubling to 30 s) while the segments wait in the local archive. The local
 *   archive keeps every segment some target lacks (the incremental's trim asks `shippedThrough`).
 * - With the redo, the directory (target-directory.ts, at most every 30 s when it changed) and
 *   the lease of this installation (target-lease.ts) go to each target: what `repo attach`
 *   rebuilds a lost installation from.
 * - `redo_ship` keeps per target the newest sequence shipped, the time of its record and the last
 *   failure, for `rpo`, the dashboard and the metrics; the target's `redo/` listing is the truth.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { BackupTarget, shippedSegmentObject } from "../backup/target.ts";
import { serverTargets, type TargetEntry } from "../backup/server-targets.ts";
import { shipDirectory } from "../backup/target-directory.ts";
import { renewLease } from "../backup/target-lease.ts";
import { consolePool } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { listSegments } from "./archive-redo.ts";
import { readSegmentHeader } from "./redo-coverage.ts";
import { parseSegmentName } from "./segment-format.ts";

/** Where shipped segments live in a target. */
export const SHIPPED_PREFIX = "redo/";

export interface ShipResult {
  target: string;
  /** Segments sent in this run. */
  shipped: string[];
  bytes: number;
  /** The newest sequence number the target holds without a hole after its floor. */
  lastShippedSeq: number;
  /** Why this run sent nothing more: the error, or that the target is waiting out its backoff. */
  error?: string;
  waiting?: boolean;
}

export interface ShipOptions {
  /** Called before each segment is sent (tests stop a process here). */
  onSending?: (target: string, segment: string) => void | Promise<void>;
  /** Ignore the backoff of failing targets (an operator asking now). */
  now?: boolean;
  /** Wait for the primary however long it takes (a backup refers to what its own target holds). */
  awaitPrimary?: boolean;
  /**
   * How long to wait for a target's ship before answering without it (it goes on in the
   * background and the next run sees it finished): a slow or hanging target must not hold up
   * the archive job, and with it the sealing and the shipping to the other targets.
   */
  waitMs?: number;
}

type ServerForShip = Pick<ServerSummary, "name" | "backupTarget" | "settings" | "redoArchivePath">;

/** What this process knows of a target: the shipped segments it holds (listed once), its backoff. */
interface TargetState {
  present: Set<string> | null;
  failures: number;
  retryAt: number;
  ready: boolean;
  /** When the directory was last compared with what the target holds. */
  directoryAt: number;
  /** When `present` was listed: listed again now and then, in case the target lost objects. */
  listedAt: number;
  /** What this process last wrote to redo_ship for the target. */
  recorded: number | null;
}

const RELIST_EVERY_MS = 10 * 60_000;

/** How often the directory at a target's root is brought up to date (attach reads what changed since from the redo). */
const DIRECTORY_EVERY_MS = 30_000;
const states = new Map<string, TargetState>();

function stateOf(server: string, url: string): TargetState {
  const key = `${server}\u0000${url}`;
  let state = states.get(key);
  if (!state) states.set(key, (state = { present: null, failures: 0, retryAt: 0, ready: false, directoryAt: 0, listedAt: 0, recorded: null }));
  return state;
}

/** Forgets what was learned of targets (tests that replace a target underneath). */
export function forgetShipState(): void {
  states.clear();
}

/** The names of the shipped segments a target holds. */
export async function listShipped(target: BackupTarget): Promise<string[]> {
  const names: string[] = [];
  for await (const info of target.backend.list(SHIPPED_PREFIX)) {
    const name = info.name.slice(SHIPPED_PREFIX.length);
    if (parseSegmentName(name)) names.push(name);
  }
  return names.sort((a, b) => parseSegmentName(a)!.firstSeq - parseSegmentName(b)!.firstSeq);
}

// Capped at 30 s: a failed try costs one request, and a target that comes back is used again
// within half a minute (the RPO depends on it).
const BACKOFF_MS = [2_000, 4_000, 8_000, 16_000, 30_000];

async function serverId(name: string): Promise<number> {
  const { rows } = await consolePool().query<{ id: number }>("SELECT id FROM server WHERE name = $1", [name]);
  if (!rows[0]) throw new Error(`server ${name} is not in the directory`);
  return rows[0].id;
}

async function recordShipped(id: number, entry: TargetEntry, seq: number, at: string | null, segments: number, bytes: number): Promise<void> {
  await consolePool().query(
    `INSERT INTO redo_ship AS r (server_id, target, url, last_shipped_seq, last_shipped_at, shipped_at, segments_shipped, bytes_shipped)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 > 0 THEN now() END, $6, $7)
     ON CONFLICT (server_id, target) DO UPDATE SET
       url = EXCLUDED.url,
       -- A target name given another place starts again from what that place holds.
       last_shipped_at = CASE WHEN r.url <> EXCLUDED.url OR EXCLUDED.last_shipped_seq >= r.last_shipped_seq THEN coalesce(EXCLUDED.last_shipped_at, CASE WHEN r.url = EXCLUDED.url THEN r.last_shipped_at END) ELSE r.last_shipped_at END,
       last_shipped_seq = CASE WHEN r.url <> EXCLUDED.url THEN EXCLUDED.last_shipped_seq ELSE GREATEST(r.last_shipped_seq, EXCLUDED.last_shipped_seq) END,
       shipped_at = coalesce(EXCLUDED.shipped_at, r.shipped_at),
       segments_shipped = r.segments_shipped + EXCLUDED.segments_shipped,
       bytes_shipped = r.bytes_shipped + EXCLUDED.bytes_shipped,
       failing_since = NULL, last_error = NULL`,
    [id, entry.name, entry.url, seq, at, segments, bytes],
  );
}

async function recordFailure(id: number, entry: TargetEntry, message: string): Promise<void> {
  await consolePool().query(
    `INSERT INTO redo_ship AS r (server_id, target, url, failing_since, last_error) VALUES ($1, $2, $3, now(), $4)
     ON CONFLICT (server_id, target) DO UPDATE SET url = EXCLUDED.url, failing_since = coalesce(r.failing_since, now()), last_error = EXCLUDED.last_error`,
    [id, entry.name, entry.url, message.slice(0, 1000)],
  );
}

/** What the row says the target holds; nothing when the row was about another place of that name. */
async function recordedSeq(id: number, entry: TargetEntry): Promise<number> {
  const { rows } = await consolePool().query<{ seq: string }>("SELECT last_shipped_seq::text AS seq FROM redo_ship WHERE server_id = $1 AND target = $2 AND url = $3", [id, entry.name, entry.url]);
  return Number(rows[0]?.seq ?? 0);
}

async function shipTo(server: ServerForShip, id: number, entry: TargetEntry, options: ShipOptions): Promise<ShipResult> {
  const state = stateOf(server.name, entry.url);
  const result: ShipResult = { target: entry.name, shipped: [], bytes: 0, lastShippedSeq: await recordedSeq(id, entry) };
  if (!options.now && Date.now() < state.retryAt) return { ...result, waiting: true };
  const target = new BackupTarget(entry.url, server.name);
  let sent = 0;
  try {
    if (!state.ready) {
      // Never into another server's target; a new one is described first (target.json).
      await target.init();
      state.ready = true;
    }
    // This installation holds the target (a lease, renewed about once a minute): one another
    // installation took over (repo attach --takeover) is not shipped to any more.
    await renewLease(target);
    if (!state.present || Date.now() - state.listedAt > RELIST_EVERY_MS) {
      state.present = new Set(await listShipped(target));
      state.listedAt = Date.now();
    }
    // The floor: what this target holds or held. Segments at or below it that it lacks were
    // removed by retention, not missed, and are not sent again.
    let through = result.lastShippedSeq;
    for (const name of state.present) through = Math.max(through, parseSegmentName(name)!.lastSeq);
    const floor = through;
    let lastAt: string | null = null;
    for (const segment of await listSegments(server.redoArchivePath)) {
      if (segment.lastSeq <= floor || state.present.has(segment.name)) continue;
      const file = path.join(server.redoArchivePath, segment.name);
      await options.onSending?.(entry.name, segment.name);
      const size = (await stat(file)).size;
      await target.backend.save(shippedSegmentObject(segment.name), createReadStream(file));
      state.present.add(segment.name);
      result.shipped.push(segment.name);
      result.bytes += size;
      sent++;
      through = Math.max(through, segment.lastSeq);
      lastAt = (await readSegmentHeader(file))?.lastAt ?? lastAt;
      // Recorded segment by segment: the RPO moves as each one lands.
      await recordShipped(id, entry, through, lastAt, 1, size);
    }
    // Nothing sent: the row is written only when it would change (a run every few seconds).
    if (!sent && (state.failures > 0 || state.recorded !== through)) await recordShipped(id, entry, through, null, 0, 0);
    state.recorded = through;
    if (Date.now() - state.directoryAt >= DIRECTORY_EVERY_MS) {
      await shipDirectory(id, target);
      state.directoryAt = Date.now();
    }
    state.failures = 0;
    state.retryAt = 0;
    result.lastShippedSeq = through;
    return result;
  } catch (error) {
    const message = (error as Error).message;
    state.present = null; // listed again on the next try: the failure may have been mid-save
    state.retryAt = Date.now() + BACKOFF_MS[Math.min(state.failures, BACKOFF_MS.length - 1)]!;
    state.failures++;
    await recordFailure(id, entry, message).catch(() => {});
    result.lastShippedSeq = await recordedSeq(id, entry).catch(() => result.lastShippedSeq);
    return { ...result, error: message };
  }
}

/** Ships under way in this process, per server and target: one at a time each. */
const inFlight = new Map<string, Promise<ShipResult>>();

/**
 * Ships the server's sealed segments that its targets lack, to every target at once. A target
 * whose ship is still under way (from an earlier call) is not started again; one that takes
 * longer than `waitMs` is answered as `inProgress` and finishes in the background.
 */
export async function shipRedo(server: ServerForShip, options: ShipOptions = {}): Promise<(ShipResult & { inProgress?: boolean })[]> {
  const id = await serverId(server.name);
  return Promise.all(
    serverTargets(server).map(async (entry) => {
      const key = `${server.name}\u0000${entry.url}`;
      let ship = inFlight.get(key);
      if (!ship) {
        // Whatever fails (the console database included) is this target's failure, never the caller's.
        ship = shipTo(server, id, entry, options)
          .catch((error: Error): ShipResult => ({ target: entry.name, shipped: [], bytes: 0, lastShippedSeq: 0, error: error.message }))
          .finally(() => inFlight.delete(key));
        inFlight.set(key, ship);
      }
      if (options.waitMs === undefined || (options.awaitPrimary && entry.role === "primary")) return ship;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<ShipResult & { inProgress: boolean }>((resolve) => {
        timer = setTimeout(() => resolve({ target: entry.name, shipped: [], bytes: 0, lastShippedSeq: 0, inProgress: true }), options.waitMs);
      });
      return Promise.race([ship, late]).finally(() => clearTimeout(timer));
    }),
  );
}

/**
 * The newest sequence number every target of the server holds: the local archive may drop
 * segments up to it and no further. Infinity when shipping is off (the incremental then moves
 * the redo to the primary, as before).
 */
export async function shippedThrough(server: ServerForShip): Promise<number> {
  if (server.settings.redoShipSeconds === 0) return Infinity;
  const { rows } = await consolePool().query<{ target: string; seq: string }>(
    "SELECT r.target, r.last_shipped_seq::text AS seq FROM redo_ship r JOIN server v ON v.id = r.server_id WHERE v.name = $1",
    [server.name],
  );
  const seqs = new Map(rows.map((r) => [r.target, Number(r.seq)]));
  return Math.min(...serverTargets(server).map((t) => seqs.get(t.name) ?? 0));
}

/** Whether shipping is on for the server (the store's archive is then sealed at least every redoShipSeconds). */
export function shipping(server: Pick<ServerSummary, "settings">): boolean {
  return server.settings.redoShipSeconds > 0;
}
