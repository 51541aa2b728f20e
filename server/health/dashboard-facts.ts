/**
 * What the dashboard shows per server beyond its directory facts: the backup target's free space
 * (against the server's minimum), how far the redo archive lags, and the jobs on its queue. The
 * free space is what the server's workers measured for their last heartbeat: they, not the
 * console, must reach the target. Only when no live worker reports it does the console measure
 * the folder itself (one machine, or no worker running). Each
 * fact is gathered on its own with a short timeout, so a server whose mailstore, target or Redis
 * is down gets an error for that fact and the rest of the answer stands. Then the risks (the
 * newest recoverable point, the next backup, red flags) and the last 30 sessions, for the strip
 * and the charts.
 */
import { isObjectStore, measureFreeSpace, type FreeSpace } from "../backup/free-space.ts";
import { consolePool } from "../db/console-db.ts";
import { listServers } from "../directory/list-servers.ts";
import { config } from "../config.ts";
import { liveWorkers, newestTargetSpace } from "../jobs/heartbeat.ts";
import { serverQueue } from "../jobs/queues.ts";
import { readyStatusClient } from "../jobs/redis.ts";
import { serverRisks, type ServerRisk } from "./server-risks.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { redoRpo, type ServerRpo } from "../redo/redo-rpo.ts";
import { redoStatus, type StoreStatus } from "../mailstore/store-status.ts";

const TIMEOUT_MS = 3_000;

export interface ServerFacts {
  server: string;
  freeSpace: (FreeSpace & { minimumBytes: number; minimumPercent: number; belowMinimum: boolean; measuredBy: string; measuredAt: string }) | null;
  freeSpaceError: string | null;
  /** An object store (an s3:// target, its URL without settings): it has no free space to watch, so both fields above are null. */
  objectStore: string | null;
  /** The redo log and archive: lagSeconds is the age of the oldest record not yet archived. */
  redo: StoreStatus["redo"] | null;
  redoError: string | null;
  /** Jobs on the server's queue; `active` is what runs now. */
  jobs: { active: number; waiting: number; delayed: number; failed: number } | null;
  jobsError: string | null;
  /** Per target, the redo it holds and the age of the oldest record it lacks (redo-rpo.ts). */
  rpo: ServerRpo | null;
  rpoError: string | null;
  /** Newest recoverable point, next backup, red flags (server-risks.ts). */
  risk: ServerRisk | null;
  riskError: string | null;
  /** The last 30 ended sessions, oldest first: the dashboard's strip and charts. */
  history: SessionPoint[];
}

export interface SessionPoint {
  label: string;
  type: string;
  status: string;
  endedAt: string;
  seconds: number;
  bytesWritten: number;
  /** Bytes of message bodies the session covered, and how many of them it stored new (dedup). */
  bodyBytes: number;
  newBodyBytes: number;
}

export interface DashboardFacts {
  generatedAt: string;
  servers: ServerFacts[];
}

async function settle<T>(what: string, work: () => Promise<T>): Promise<{ value: T | null; error: string | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      }),
    ]);
    return { value, error: null };
  } catch (error) {
    return { value: null, error: `${what}: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

export async function dashboardFacts(): Promise<DashboardFacts> {
  const servers = await listServers();
  const facts = await Promise.all(
    servers.map(async (s): Promise<ServerFacts> => {
      const [space, redo, jobs, rpo] = await Promise.all([
        settle("backup target", async () => {
          if (isObjectStore(s.backupTarget)) return null;
          // Redis down: no beats to read, so the console measures (the jobs fact reports Redis).
          const beats = await readyStatusClient().then(
            async (redis) => (await liveWorkers(redis, config().MAILVAULT_QUEUE_PREFIX, [s.name])).get(s.name) ?? [],
            () => [],
          );
          const reported = newestTargetSpace(beats, s.name, s.backupTarget);
          if (reported && "error" in reported) throw new Error(`${reported.error} (worker on ${reported.host})`);
          const free: FreeSpace & { measuredBy: string; measuredAt: string } = reported
            ? { freeBytes: reported.freeBytes, totalBytes: reported.totalBytes, freePercent: reported.freePercent, measuredBy: `worker on ${reported.host}`, measuredAt: reported.at }
            : { ...(await measureFreeSpace(s.backupTarget)), measuredBy: "console", measuredAt: new Date().toISOString() };
          const { minFreeBytes, minFreePercent } = s.settings;
          return { ...free, minimumBytes: minFreeBytes, minimumPercent: minFreePercent, belowMinimum: free.freeBytes < minFreeBytes || free.freePercent < minFreePercent };
        }),
        settle("mailstore", async () => redoStatus(await openMailstore(s.name))),
        settle("redis", async () => {
          const counts = await serverQueue(s.name).getJobCounts("active", "waiting", "delayed", "failed");
          return { active: counts.active ?? 0, waiting: counts.waiting ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 };
        }),
        settle("rpo", () => redoRpo(s.name)),
      ]);
      const objectStore = isObjectStore(s.backupTarget) ? s.backupTarget.replace(/\?.*$/, "") : null;
      return {
        server: s.name,
        freeSpace: space.value,
        freeSpaceError: objectStore ? null : space.error,
        objectStore,
        redo: redo.value,
        redoError: redo.error,
        jobs: jobs.value,
        jobsError: jobs.error,
        rpo: rpo.value,
        rpoError: rpo.error,
        risk: null,
        riskError: null,
        history: [],
      };
    }),
  );
  const inputs = new Map(facts.map((f) => [f.server, { redo: f.redo, belowMinimumSpace: f.freeSpace?.belowMinimum ?? false, rpo: f.rpo }]));
  const [risks, history] = await Promise.all([settle("risks", () => serverRisks(servers, inputs)), sessionHistory(servers.map((s) => s.name))]);
  for (const f of facts) {
    f.risk = risks.value?.get(f.server) ?? null;
    f.riskError = risks.error;
    f.history = history.get(f.server) ?? [];
  }
  return { generatedAt: new Date().toISOString(), servers: facts };
}

const HISTORY = 30;

async function sessionHistory(servers: string[]): Promise<Map<string, SessionPoint[]>> {
  const { rows } = await consolePool().query<{ server: string; label: string; type: string; status: string; started_at: Date | null; created_at: Date; ended_at: Date; bytes_written: string; blob_bytes_referenced: string; blob_bytes_new: string }>(
    `SELECT server, label, type, status, started_at, created_at, ended_at, bytes_written, blob_bytes_referenced, blob_bytes_new FROM (
       SELECT v.name AS server, b.label, b.type::text, b.status::text, b.started_at, b.created_at, b.ended_at, b.bytes_written, b.blob_bytes_referenced, b.blob_bytes_new,
              row_number() OVER (PARTITION BY v.id ORDER BY b.ended_at DESC) AS n
         FROM backup_session b JOIN server v ON v.id = b.server_id
        WHERE v.name = ANY($1::text[]) AND b.ended_at IS NOT NULL) t
      WHERE n <= $2 ORDER BY server, ended_at`,
    [servers, HISTORY],
  );
  const out = new Map<string, SessionPoint[]>();
  for (const r of rows) {
    let list = out.get(r.server);
    if (!list) out.set(r.server, (list = []));
    list.push({
      label: r.label,
      type: r.type,
      status: r.status,
      endedAt: r.ended_at.toISOString(),
      seconds: Math.max(0, (r.ended_at.getTime() - (r.started_at ?? r.created_at).getTime()) / 1000),
      bytesWritten: Number(r.bytes_written),
      bodyBytes: Number(r.blob_bytes_referenced),
      newBodyBytes: Number(r.blob_bytes_new),
    });
  }
  return out;
}
