/**
 * The worker's side of the job registry: for each job name, the handler that validates the
 * payload and calls one server/ function. Handlers stay a few lines each.
 */
import type { Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { isJobName, jobDefinitions, type JobName } from "../server/jobs/definitions.ts";
import { answerPing } from "../server/jobs/ping.ts";
import { archiveServerRedo } from "../server/redo/archive-server-redo.ts";

export interface ProcessorContext {
  server: string;
  workerId: string;
}

type Handler = (context: ProcessorContext, data: never, job: Job, signal?: AbortSignal) => Promise<unknown>;

const handlers: { [N in JobName]: Handler } = {
  "server.ping": async (context, data) => answerPing(context.server, context.workerId, data),
  "redo.archive": async (context, data: { force: boolean }, job) =>
    archiveServerRedo(context.server, { force: data.force, onProgress: (progress) => void job.updateProgress(progress) }),
};

export function processorFor(context: ProcessorContext) {
  // Three parameters: BullMQ only creates the AbortSignal for processors that declare it.
  return async (job: Job, _token?: string, signal?: AbortSignal) => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job kind: ${job.name}`);
    const parsed = jobDefinitions[job.name].schema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message}`);
    return handlers[job.name](context, parsed.data as never, job, signal);
  };
}
