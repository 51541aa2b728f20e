/**
 * The worker's side of the job registry: for each job name, the handler that calls one server/
 * function. Handlers stay a few lines; the backup session's flow is built here because it is
 * BullMQ plumbing (a parent `backup.finish` with one `backup.accounts` child per batch).
 */
import type { FlowProducer, Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { backupAccounts, finishSessionJob, startSession, type AccountOutcome } from "../server/backup/run-session.ts";
import { verifyServerBackups } from "../server/backup/verify-session.ts";
import { finishRestoreRun, restoreRunAccount, startRestoreRun, type AccountOutcome as RestoreOutcome } from "../server/restore/run-restore.ts";
import { isJobName, jobDefinitions, type JobData, type JobName } from "../server/jobs/definitions.ts";
import { answerPing } from "../server/jobs/ping.ts";
import { queueName } from "../server/jobs/queues.ts";
import { archiveServerRedo } from "../server/redo/archive-server-redo.ts";

export interface ProcessorContext {
  server: string;
  workerId: string;
  /** Jobs this worker runs at once for the server: how many batches a session is cut into. */
  concurrency: number;
  flows: FlowProducer;
}

type Handlers = { [N in JobName]: (context: ProcessorContext, data: JobData<N>, job: Job) => Promise<unknown> };

const handlers: Handlers = {
  "server.ping": async (context, data) => answerPing(context.server, context.workerId, data),
  "redo.archive": async (context, data, job) =>
    archiveServerRedo(context.server, { force: data.force, onProgress: (progress) => void job.updateProgress(progress) }),
  "backup.start": async (context, data) => {
    const started = await startSession(context.server, data.sessionId, context.concurrency);
    if ("skipped" in started) return started;
    const queue = queueName(context.server);
    await context.flows.add({
      name: "backup.finish",
      queueName: queue,
      data: { sessionId: data.sessionId },
      opts: { jobId: `backup-${data.sessionId}-finish` },
      children: started.batches.map((accounts, i) => ({
        name: "backup.accounts",
        queueName: queue,
        data: { sessionId: data.sessionId, accounts },
        // A child that crashes must not keep the parent waiting: it finishes and reports the loss.
        opts: { jobId: `backup-${data.sessionId}-accounts-${i}`, ignoreDependencyOnFailure: true },
      })),
    });
    return { batches: started.batches.length, accounts: started.batches.flat().length };
  },
  "backup.accounts": async (context, data, job) => {
    const outcomes = await backupAccounts(context.server, data.sessionId, data.accounts);
    await job.updateProgress({ done: outcomes.length });
    return outcomes;
  },
  "backup.verify": async (context, data) => verifyServerBackups(context.server, data),
  "restore.start": async (context, data) => {
    const started = await startRestoreRun(data.runId);
    if ("skipped" in started) return started;
    const queue = queueName(context.server);
    await context.flows.add({
      name: "restore.finish",
      queueName: queue,
      data: { runId: data.runId },
      opts: { jobId: `restore-${data.runId}-finish` },
      children: Array.from({ length: started.accounts }, (_, index) => ({
        name: "restore.account",
        queueName: queue,
        data: { runId: data.runId, index },
        opts: { jobId: `restore-${data.runId}-account-${index}`, ignoreDependencyOnFailure: true },
      })),
    });
    return started;
  },
  "restore.account": async (_context, data) => restoreRunAccount(data.runId, data.index),
  "restore.finish": async (_context, data, job) => {
    const values = await job.getChildrenValues<RestoreOutcome>();
    const failures = await job.getIgnoredChildrenFailures();
    return finishRestoreRun(data.runId, Object.values(values), Object.entries(failures).map(([key, reason]) => `account job ${key.split(":").pop()} failed: ${reason}`));
  },
  "backup.finish": async (context, data, job) => {
    const values = await job.getChildrenValues<AccountOutcome[]>();
    const failures = await job.getIgnoredChildrenFailures();
    const lost = Object.entries(failures).map(([key, reason]) => `batch ${key.split(":").pop()} failed: ${reason}`);
    return finishSessionJob(context.server, data.sessionId, Object.values(values).flat(), lost);
  },
};

export function processorFor(context: ProcessorContext) {
  // Three parameters: BullMQ only creates the AbortSignal for processors that declare it.
  return async (job: Job, _token?: string, _signal?: AbortSignal) => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job kind: ${job.name}`);
    const parsed = jobDefinitions[job.name].schema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message}`);
    const handler = handlers[job.name] as (context: ProcessorContext, data: unknown, job: Job) => Promise<unknown>;
    return handler(context, parsed.data, job);
  };
}
