/**
 * The worker's side of the job registry: for each job name, the handler that calls one server/
 * function. Handlers stay a few lines; the backup session's flow is built here because it is
 * BullMQ plumbing (a parent `backup.finish` with one `backup.accounts` child per batch).
 */
import type { FlowProducer, Job } from "bullmq";
import { DelayedError, UnrecoverableError } from "bullmq";
import { getCatalogSession } from "../server/backup/catalog.ts";
import { querySessions } from "../server/backup/query-sessions.ts";
import { backupAccounts, finishSessionJob, startSession, type AccountOutcome } from "../server/backup/run-session.ts";
import { verifyServerBackups } from "../server/backup/verify-session.ts";
import { copySessions, type SessionCopyReport } from "../server/backup/copy-sessions.ts";
import { deleteSession, type DeleteSessionResult } from "../server/backup/delete-session.ts";
import { describeFollowUp, tryFollowUpBackup } from "../server/restore/follow-up-backup.ts";
import { finishRestoreRun, restoreRunAccounts, startRestoreRun, type AccountOutcome as RestoreOutcome } from "../server/restore/run-restore.ts";
import { backupLines, copyLine, mib, restoreLine } from "../server/jobs/job-log-lines.ts";
import { isJobName, jobDefinitions, retryOptions, type JobData, type JobName } from "../server/jobs/definitions.ts";
import { answerPing } from "../server/jobs/ping.ts";
import { dispatchReports, sendReport } from "../server/reports/send-report.ts";
import { refusalOf, type JobRefusal } from "../server/jobs/run-job.ts";
import { FINISHED_JOB_RETENTION, queueName } from "../server/jobs/queues.ts";
import { keepRestoreRunAlive } from "../server/jobs/run-heartbeat.ts";
import { archiveServerRedo } from "../server/redo/archive-server-redo.ts";
import { runScheduledBackup, runScheduledCopy, runScheduledDrill, runScheduledRetention, runScheduledSummary, runScheduledVerify } from "../server/schedule/run-scheduled-entry.ts";
import { runDrill } from "../server/drill/run-drill.ts";
import { restoreItemsNow } from "../server/explore/restore-items.ts";
import { prepareView } from "../server/explore/views.ts";

/** How often a restore's follow-up backup looks again whether the running backup has ended. */
const FOLLOW_UP_RECHECK_MS = 3_000;

export interface ProcessorContext {
  server: string;
  workerId: string;
  /** Jobs this worker runs at once for the server: how many batches a session is cut into. */
  concurrency: number;
  flows: FlowProducer;
}

async function sessionSummary(server: string, sessionId: number) {
  const { label } = await getCatalogSession(sessionId);
  return (await querySessions({ server, label })).sessions[0];
}

type Handlers = { [N in JobName]: (context: ProcessorContext, data: JobData<N>, job: Job) => Promise<unknown> };

const handlers: Handlers = {
  "server.ping": async (context, data) => answerPing(context.server, context.workerId, data),
  "redo.archive": async (context, data, job) =>
    // Progress is best effort: Redis being restarted must not turn into an unhandled rejection.
    archiveServerRedo(context.server, { force: data.force, onProgress: (progress) => void job.updateProgress(progress).catch(() => {}) }),
  "backup.start": async (context, data, job) => {
    const started = await startSession(context.server, data.sessionId, context.concurrency);
    if ("skipped" in started) {
      await job.log(`not started: ${started.skipped}`);
      return started;
    }
    const session = await sessionSummary(context.server, data.sessionId);
    await job.log(
      `${session?.label}: sealed redo through ${session?.redoThroughSeq ?? "?"} (${session?.redoSegments ?? 0} segment(s) moved); ` +
        `${started.batches.flat().length} accounts in ${started.batches.length} batches`,
    );
    const queue = queueName(context.server);
    await context.flows.add({
      name: "backup.finish",
      queueName: queue,
      data: { sessionId: data.sessionId },
      opts: { jobId: `backup-${data.sessionId}-finish`, ...FINISHED_JOB_RETENTION },
      children: started.batches.map((accounts, i) => ({
        name: "backup.accounts",
        queueName: queue,
        data: { sessionId: data.sessionId, accounts },
        // A child that crashes must not keep the parent waiting: it finishes and reports the loss.
        opts: { jobId: `backup-${data.sessionId}-accounts-${i}`, ignoreDependencyOnFailure: true, ...FINISHED_JOB_RETENTION },
      })),
    });
    return { batches: started.batches.length, accounts: started.batches.flat().length };
  },
  "backup.accounts": async (context, data, job) => {
    const outcomes = await backupAccounts(context.server, data.sessionId, data.accounts);
    for (const line of backupLines(outcomes, data.accounts)) await job.log(line);
    await job.updateProgress({ done: outcomes.length });
    return outcomes;
  },
  "backup.verify": async (context, data) => verifyServerBackups(context.server, data),
  // A refusal (the state moved since the console checked) is an answer, not a failure.
  "backup.delete": async (context, data): Promise<DeleteSessionResult | JobRefusal> => deleteSession({ server: context.server, label: data.label }).catch(refusalOf),
  "backup.copy": async (context, data, job): Promise<SessionCopyReport[] | JobRefusal> =>
    copySessions(context.server, { ...data, onSession: (report) => void job.log(copyLine(report, data.to)).catch(() => {}) }).catch(refusalOf),
  "restore.start": async (context, data, job) => {
    const started = await startRestoreRun(data.runId);
    await job.log("skipped" in started ? `not started: ${started.skipped}` : `${started.accounts} account(s) to restore, in ${started.jobs.length} job(s)`);
    if ("skipped" in started) return started;
    const queue = queueName(context.server);
    await context.flows.add({
      name: "restore.finish",
      queueName: queue,
      data: { runId: data.runId },
      opts: { jobId: `restore-${data.runId}-finish`, ...FINISHED_JOB_RETENTION },
      children: started.jobs.map(({ index, count }) => ({
        name: "restore.account",
        queueName: queue,
        data: { runId: data.runId, index, count },
        opts: { jobId: `restore-${data.runId}-account-${index}`, ignoreDependencyOnFailure: true, ...retryOptions(jobDefinitions["restore.account"]), ...FINISHED_JOB_RETENTION },
      })),
    });
    return { accounts: started.accounts, jobs: started.jobs.length };
  },
  "restore.account": async (_context, data, job) => {
    // attemptsMade counts the attempts already failed; restoreRunAccounts rethrows a lost
    // connection only while another attempt remains.
    const outcomes = await restoreRunAccounts(data.runId, { index: data.index, count: data.count }, { made: job.attemptsMade, max: job.opts.attempts ?? 1 }).catch(async (error: Error) => {
      await job.log(`attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1}: ${error.message}`).catch(() => {});
      throw error;
    });
    for (const outcome of outcomes) await job.log(restoreLine(outcome));
    return outcomes;
  },
  "restore.finish": async (context, data, job) => {
    const outcomes = Object.values(await job.getChildrenValues<RestoreOutcome[]>()).flat();
    const lost = Object.entries(await job.getIgnoredChildrenFailures()).map(([key, reason]) => {
      const index = /-account-(\d+)$/.exec(key)?.[1];
      return { index: index === undefined ? null : Number(index), reason: `account job ${key.split(":").pop()} failed: ${reason}` };
    });
    const result = await finishRestoreRun(data.runId, outcomes, lost);
    await dispatchReports([context.server]).catch(() => {});
    await job.log(`${result.label} ${result.status}: ${result.summary}`);
    for (const line of lost) await job.log(line.reason);
    return result;
  },
  "restore.backup": async (context, data, job) => {
    const state = await tryFollowUpBackup({ runId: data.runId, server: context.server, accounts: data.accounts });
    await job.log(describeFollowUp(state));
    if (!("waitingFor" in state)) return state;
    // Another backup runs: look again shortly, without using up an attempt.
    await job.moveToDelayed(Date.now() + FOLLOW_UP_RECHECK_MS, job.token);
    throw new DelayedError();
  },
  "backup.finish": async (context, data, job) => {
    const values = await job.getChildrenValues<AccountOutcome[]>();
    const failures = await job.getIgnoredChildrenFailures();
    const lost = Object.entries(failures).map(([key, reason]) => `batch ${key.split(":").pop()} failed: ${reason}`);
    const result = await finishSessionJob(context.server, data.sessionId, Object.values(values).flat(), lost);
    // Its report mail goes out now rather than at the next heartbeat's dispatch.
    await dispatchReports([context.server]).catch(() => {});
    const session = await sessionSummary(context.server, data.sessionId);
    await job.log(
      result.status === "completed"
        ? `${result.label} completed: ${session?.fullAccounts ?? 0} full snapshot(s), ${mib(session?.bytesWritten ?? 0)} written, ${session?.blobsNew ?? 0} new blob(s)`
        : `${result.label} ${result.status}${session?.error ? `: ${session.error}` : ""}`,
    );
    return result;
  },
  "schedule.backup": async (context, data, job) => runScheduledBackup(context.server, data, (line) => job.log(line)),
  "schedule.retention": async (context, data, job) => runScheduledRetention(context.server, data, (line) => job.log(line)),
  "schedule.copy": async (context, data, job) => runScheduledCopy(context.server, data, (line) => job.log(line)),
  "schedule.summary": async (context, data, job) => {
    const outcome = await runScheduledSummary(context.server, data, (line) => job.log(line));
    await dispatchReports([context.server]).catch(() => {});
    return outcome;
  },
  "schedule.verify": async (context, data, job) => {
    const outcome = await runScheduledVerify(context.server, data, (line) => job.log(line));
    await dispatchReports([context.server]).catch(() => {});
    return outcome;
  },
  "drill.run": async (context, data, job) => {
    const outcome = await runDrill(data.drillId, (line) => job.log(line));
    await dispatchReports([context.server]).catch(() => {});
    return outcome;
  },
  "schedule.drill": async (context, data, job) => runScheduledDrill(context.server, data, (line) => job.log(line)),
  "explore.prepare": async (_context, data, job) => prepareView(data.viewId, (line) => job.log(line)),
  "restore.items": async (_context, data) => restoreItemsNow(data.input as never).catch(refusalOf),
  "report.send": async (_context, data, job) => {
    const outcome = await sendReport(data.id);
    await job.log("sent" in outcome ? `sent "${outcome.sent}" to ${outcome.to.join(", ")}` : `not sent: ${outcome.skipped}`);
    return outcome;
  },
};

/** The jobs that work on a running restore run (its follow-up backup comes after it ended). */
const RUN_JOBS = new Set(["restore.start", "restore.account", "restore.finish"]);

export function processorFor(context: ProcessorContext) {
  // Three parameters: BullMQ only creates the AbortSignal for processors that declare it.
  return async (job: Job, _token?: string, _signal?: AbortSignal) => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job kind: ${job.name}`);
    const parsed = jobDefinitions[job.name].schema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message}`);
    const handler = handlers[job.name] as (context: ProcessorContext, data: unknown, job: Job) => Promise<unknown>;
    // Every job of a restore run keeps the run's heartbeat fresh, for the sweep of dead runs.
    const run = RUN_JOBS.has(job.name) ? keepRestoreRunAlive((parsed.data as { runId: number }).runId) : undefined;
    try {
      return await handler(context, parsed.data, job);
    } finally {
      run?.stop();
    }
  };
}
