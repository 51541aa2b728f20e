/**
 * One job as the console's job page shows it: its state, progress, timings, outcome and log
 * lines, the other jobs of the same run, and the backup session or restore run it belongs to.
 * Backups and restores are flows with deterministic ids (workers/processors.ts): `backup-<n>`
 * starts session n and adds `backup-<n>-finish` with children `backup-<n>-accounts-<i>`;
 * restores are `restore-<n>`, `restore-<n>-finish`, `restore-<n>-account-<i>` (i: the plan index of the job's first account) for run n. Redis
 * answers first; a job it no longer has comes from the job_run table (history that outlives
 * Redis, with the log lines kept when it finished). When Redis is down, history answers and a
 * warning says so.
 */
import type { Job } from "bullmq";
import { getSession, type SessionSummary } from "../backup/query-sessions.ts";
import { prisma } from "../db/console-db.ts";
import { getServer, listServerNames } from "../directory/list-servers.ts";
import { MailvaultError } from "../errors.ts";
import { getRestoreRunById, type RestoreRunDetail } from "../restore/get-restore-run.ts";
import type { JobSummary } from "./list-jobs.ts";
import { queueName, serverQueue } from "./queues.ts";

/** Children whose details are read; `childrenTotal` says how many there are. */
const MAX_CHILDREN = 200;

/** A job as the list shows it (state: BullMQ's, or from history completed or failed), and more. */
export interface JobInfo extends Omit<JobSummary, "attemptsMade"> {
  /** Finished minus started, or now minus started while it runs. */
  durationMs: number | null;
  /** Unknown for a job read from history. */
  attemptsMade: number | null;
  logs: string[];
  /** Where this came from: the queue, or the job_run history once Redis has dropped the job. */
  source: "redis" | "history";
  /** Its part in a backup or restore flow. */
  role: "start" | "finish" | "child" | null;
  index: number | null;
}

export interface JobDetail {
  job: JobInfo;
  /** Every job of the same backup or restore (this one included): start, finish, then the children in order. */
  related: JobInfo[];
  childrenTotal: number;
  backupSession: SessionSummary | null;
  restoreRun: RestoreRunDetail | null;
  warnings: string[];
}

export class JobNotFoundError extends MailvaultError {
  constructor(id: string) {
    super("not_found", "job_not_found", `no job ${id}`);
  }
}

interface FlowRef {
  kind: "backup" | "restore";
  runId: number;
  role: JobInfo["role"];
  index: number | null;
}

export function flowOf(id: string): FlowRef | null {
  const m = /^(backup|restore)-(\d+)(?:-(finish)|-(?:accounts|account)-(\d+))?$/.exec(id);
  if (!m) return null;
  return { kind: m[1] as FlowRef["kind"], runId: Number(m[2]), role: m[3] ? "finish" : m[4] !== undefined ? "child" : "start", index: m[4] === undefined ? null : Number(m[4]) };
}

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);
const duration = (start: number | null | undefined, end: number | null | undefined) => (start ? (end ?? Date.now()) - start : null);

async function fromRedis(server: string, job: Job): Promise<JobInfo> {
  const [state, logs] = await Promise.all([job.getState(), serverQueue(server).getJobLogs(job.id!).catch(() => ({ logs: [] as string[] }))]);
  const flow = flowOf(job.id!);
  return {
    id: job.id!,
    server,
    name: job.name,
    state,
    progress: job.progress,
    data: job.data,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    durationMs: duration(job.processedOn, job.finishedOn),
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason || null,
    result: job.returnvalue ?? null,
    logs: logs.logs,
    source: "redis",
    role: flow?.role ?? null,
    index: flow?.index ?? null,
  };
}

type HistoryRow = Awaited<ReturnType<ReturnType<typeof prisma>["jobRun"]["findMany"]>>[number];

function fromHistory(row: HistoryRow): JobInfo {
  const id = row.id.slice(row.id.indexOf(":") + 1);
  const flow = flowOf(id);
  return {
    id,
    server: row.server,
    name: row.name,
    state: row.status,
    progress: row.progress ?? null,
    data: row.data,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: duration(row.startedAt?.getTime(), row.finishedAt?.getTime()),
    attemptsMade: null,
    failedReason: row.error,
    result: row.result ?? null,
    logs: row.logs ?? [],
    source: "history",
    role: flow?.role ?? null,
    index: flow?.index ?? null,
  };
}

/** Jobs by id on the given servers: from Redis where it has them, else from history. */
async function findJobs(servers: string[], ids: string[], warnings: string[]): Promise<Map<string, JobInfo>> {
  const found = new Map<string, JobInfo>();
  let redisDown = false;
  for (const server of servers) {
    if (redisDown) break;
    try {
      const jobs = await Promise.all(ids.map((id) => (found.has(id) ? undefined : serverQueue(server).getJob(id))));
      for (const job of await Promise.all(jobs.filter((j): j is Job => Boolean(j)).map((j) => fromRedis(server, j)))) found.set(job.id, job);
    } catch (error) {
      redisDown = true;
      warnings.push(`Redis is unavailable (${(error as Error).message}): showing the job history kept in the console database`);
    }
  }
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) {
    const keys = servers.flatMap((s) => missing.map((id) => `${queueName(s)}:${id}`));
    for (const row of await prisma().jobRun.findMany({ where: { id: { in: keys } } })) {
      const job = fromHistory(row);
      if (!found.has(job.id)) found.set(job.id, job);
    }
  }
  return found;
}

/** The ids of a run's jobs: start, finish, and `count` children. */
function flowIds(flow: FlowRef, count: number): string[] {
  const base = `${flow.kind}-${flow.runId}`;
  const child = flow.kind === "backup" ? `${base}-accounts-` : `${base}-account-`;
  return [base, `${base}-finish`, ...Array.from({ length: Math.min(count, MAX_CHILDREN) }, (_, i) => `${child}${i}`)];
}

async function childCount(flow: FlowRef, start: JobInfo | undefined, run: RestoreRunDetail | null, server: string): Promise<number> {
  const result = (start?.result ?? {}) as { batches?: number; accounts?: number };
  if (flow.kind === "backup" && typeof result.batches === "number") return result.batches;
  if (flow.kind === "restore" && run) return run.accountsTotal;
  // Not known from the start job: count what history holds.
  const prefix = `${queueName(server)}:${flow.kind}-${flow.runId}-${flow.kind === "backup" ? "accounts" : "account"}-`;
  return prisma().jobRun.count({ where: { id: { startsWith: prefix } } });
}

export async function getJob(id: string, serverName?: string): Promise<JobDetail> {
  const servers = serverName ? [(await getServer(serverName)).name] : await listServerNames();
  const warnings: string[] = [];
  const job = (await findJobs(servers, [id], warnings)).get(id);
  if (!job) throw new JobNotFoundError(id);
  const flow = flowOf(id);
  if (!flow) return { job, related: [], childrenTotal: 0, backupSession: null, restoreRun: null, warnings };

  let backupSession: SessionSummary | null = null;
  let restoreRun: RestoreRunDetail | null = null;
  if (flow.kind === "backup") {
    const row = await prisma().backupSession.findUnique({ where: { id: flow.runId }, include: { server: { select: { name: true } } } });
    if (row) {
      const { accounts: _accounts, ...summary } = await getSession(row.server.name, row.label);
      backupSession = summary;
    }
  } else restoreRun = await getRestoreRunById(flow.runId);

  const start = flow.role === "start" ? job : (await findJobs([job.server], [`${flow.kind}-${flow.runId}`], warnings)).get(`${flow.kind}-${flow.runId}`);
  const childrenTotal = await childCount(flow, start, restoreRun, job.server);
  const ids = flowIds(flow, childrenTotal);
  const jobs = await findJobs([job.server], ids, []);
  const related = ids.map((i) => (i === id ? job : jobs.get(i))).filter((j): j is JobInfo => Boolean(j));
  return { job, related, childrenTotal, backupSession, restoreRun, warnings: [...new Set(warnings)] };
}
