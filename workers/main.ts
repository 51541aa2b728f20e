/**
 * `npm run worker [-- --server mail1 [--server mail2]] [--no-lmtp]`: runs the jobs of the named
 * mailbox servers (all of them by default) until SIGINT or SIGTERM, then finishes the running
 * jobs. Any number of worker processes, on any hosts, may serve the same server: they share its
 * queue (docs/deployment.md). `--no-lmtp` leaves mail delivery to another of them.
 */
import { Command } from "commander";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { listServers } from "../server/directory/list-servers.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { archiveCheckIntervalMs } from "../server/redo/archive-server-redo.ts";
import { logger } from "../server/logger.ts";
import { LmtpPortError, startWorkers } from "./start-workers.ts";

const program = new Command("worker")
  .description("Run Mailvault's BullMQ workers for mailbox servers")
  .option("-s, --server <name...>", "only these servers (default: every server in the directory)")
  .option("--no-lmtp", "do not listen for LMTP here: another worker of the server takes its mail")
  .parse();

const { server: only, lmtp } = program.opts<{ server?: string[]; lmtp: boolean }>();
const log = logger.child({ component: "worker" });

const known = await listServers();
const unknown = (only ?? []).filter((name) => !known.some((s) => s.name === name));
if (unknown.length > 0) {
  log.error(`unknown server(s): ${unknown.join(", ")}; known: ${known.map((s) => s.name).join(", ") || "none"}`);
  process.exit(2);
}
const chosen = known.filter((s) => !only || only.includes(s.name));
if (chosen.length === 0) {
  log.error("no servers in the directory yet: run `npm run seed` or add one");
  process.exit(2);
}

const set = await startWorkers({
  servers: chosen.map((s) => ({
    name: s.name,
    concurrency: s.settings.workerConcurrency,
    lmtpPort: lmtp ? s.settings.lmtpPort : undefined,
    lmtpHost: s.settings.lmtpHost,
    archiveEveryMs: archiveCheckIntervalMs(s.settings),
  })),
  onError: (server, error) => log.warn({ server, err: error.message }, "worker error"),
  onSwept: (swept) => log.warn({ sessions: swept.sessions, runs: swept.runs, removedFiles: swept.removedFiles.length }, "marked dead sessions and restore runs interrupted"),
}).catch(async (error: Error) => {
  if (!(error instanceof LmtpPortError)) throw error;
  log.error(error.message);
  await closeMailstores();
  await closeConsoleDb();
  process.exit(2);
});
log.info({ id: set.id, servers: set.servers, lmtp: set.lmtpPorts }, "workers started");

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping workers after their running jobs");
  await set.close();
  await closeMailstores();
  await closeConsoleDb();
  process.exit(0);
}
// A connection lost under a promise nobody awaits (a progress update while Redis restarts) must
// not take every server's jobs down with it: the work it belonged to fails and is retried.
process.on("unhandledRejection", (reason) => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection"));

process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
