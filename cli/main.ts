/**
 * `mailvault`: the command line for admins and cron. Each subcommand parses its flags and calls
 * the same server/ function the console's API calls; a mistake exits non-zero with one line
 * that says what to do. Later issues add backup, restore and the redo commands.
 */
import { Command, CommanderError } from "commander";
import { ZodError } from "zod";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { MailvaultError } from "../server/errors.ts";
import { closeQueues } from "../server/jobs/queues.ts";
import { closeMailstores } from "../server/mailstore/mailstore.ts";
import { closeStatusClient } from "../server/jobs/redis.ts";
import os from "node:os";
import { beginAudit, finishAudit } from "../server/audit/audit.ts";
import { registerAccounts } from "./commands/accounts.ts";
import { registerBackup } from "./commands/backup.ts";
import { registerBackupabort } from "./commands/backupabort.ts";
import { registerBackupquery } from "./commands/backupquery.ts";
import { registerCatalog } from "./commands/catalog.ts";
import { registerCheck } from "./commands/check.ts";
import { registerCopy } from "./commands/copy.ts";
import { registerCopyback } from "./commands/copyback.ts";
import { registerDrill } from "./commands/drill.ts";
import { registerPlayredo } from "./commands/playredo.ts";
import { registerReconstruct } from "./commands/reconstruct.ts";
import { registerRestore } from "./commands/restore.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerHealth } from "./commands/health.ts";
import { registerRedoarchive } from "./commands/redoarchive.ts";
import { registerRedodump } from "./commands/redodump.ts";
import { registerRepo } from "./commands/repo.ts";
import { registerRpo } from "./commands/rpo.ts";
import { registerSchedulebackup } from "./commands/schedulebackup.ts";
import { registerSearch } from "./commands/search.ts";
import { registerServers } from "./commands/servers.ts";
import { registerTargets } from "./commands/targets.ts";
import { registerUsers } from "./commands/users.ts";

const program = new Command("mailvault")
  .description("Backup and restore for PostgreSQL mailbox servers")
  .showHelpAfterError("(run `mailvault <command> --help` for its options)")
  .exitOverride();

/** Who the CLI acts as (an admin), for session records and the audit log. */
const requestedBy = `cli:${os.userInfo().username}`;

registerServers(program);
registerBackup(program, requestedBy);
registerBackupquery(program);
registerBackupabort(program);
registerRestore(program, requestedBy);
registerCheck(program);
registerPlayredo(program);
registerCopyback(program);
registerCopy(program);
registerTargets(program);
registerReconstruct(program, requestedBy);
registerVerify(program);
registerCatalog(program);
registerAccounts(program);
registerHealth(program);
registerRedodump(program);
registerRedoarchive(program);
registerSchedulebackup(program);
registerUsers(program);
registerRepo(program);
registerRpo(program);
registerDrill(program, requestedBy);
registerSearch(program);

/**
 * The audit name of a command that changes something; read-only commands (and --plan runs) are
 * not audited, as the console does not audit reads.
 */
function auditedAs(command: Command): string | undefined {
  const o = command.opts();
  const parent = command.parent?.name() === "mailvault" ? "" : `${command.parent?.name()}.`;
  switch (parent + command.name()) {
    case "backup": return o.del !== undefined ? (o.plan ? undefined : "backup.delete") : "backup.start";
    case "backupabort": return o.restore ? "restore.abort" : "backup.abort";
    case "restore": return o.plan ? undefined : o.undo ? "restore.undo" : "restore.start";
    case "playredo": return "restore.playredo";
    case "drill": return o.list ? undefined : "restore.drill";
    case "copyback": return "copyback";
    case "search": return o.save ? "items.download" : undefined;
    case "restoreitems": return "items.restore";
    case "copy": return "backup.copy";
    case "servers.set": return "server.settings";
    case "targets.add": return "targets.add";
    case "targets.remove": return "targets.remove";
    case "reconstruct": return "mailbox.reconstruct";
    case "verify": return "backup.verify";
    case "catalog": return o.rescan ? "catalog.rescan" : undefined;
    case "redoarchive": return "redo.archive";
    case "schedulebackup": return o.query || o.save ? undefined : "schedules.update";
    case "users.add": return "user.create";
    case "repo.init": return "target.encrypt";
    case "key.add": return "target.key.add";
    case "key.remove": return "target.key.remove";
    case "users.passwd": case "users.disable": case "users.enable": return "user.update";
    default: return undefined;
  }
}

let audited: { action: string; target: string; params: Record<string, unknown> } | undefined;

/**
 * A reader that stops early (`mailvault backupquery | head`) closes the pipe: the next write
 * fails with EPIPE, which Node would throw as an unhandled error with a stack trace. A command
 * that only reads ends there, quietly and successfully, as Unix tools do; one that changes
 * something carries on without output, so that it finishes and its audit entry says how.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (!audited) process.exit(0);
  });
}
let auditId: bigint | null = null;
program.hook("preAction", async (_program, command) => {
  const action = auditedAs(command);
  if (!action) return;
  const params: Record<string, unknown> = { ...command.opts(), ...(command.args.length ? { args: command.args } : {}) };
  audited = { action, target: String(params.server ?? params.account ?? command.args[0] ?? ""), params };
  // Recorded before it runs: a change whose entry cannot be written is not made.
  try {
    auditId = await beginAudit({ actor: requestedBy, role: "admin", ...audited });
  } catch (error) {
    audited = undefined;
    throw new MailvaultError("unavailable", "audit_unavailable", `the audit log cannot be written, so nothing was changed (${explain(error)})`);
  }
});

function explain(error: unknown): string {
  if (error instanceof ZodError) return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
  if (error instanceof MailvaultError) return error.message;
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  if (code === "ECONNREFUSED") return `cannot reach a service (${message}): is PostgreSQL running? check DATABASE_URL`;
  if (code === "P1003" || code === "3D000" || /Database `.*` does not exist/.test(message)) {
    return "the console database does not exist: run `npm start` or `npm run db:migrate` first, or check DATABASE_URL";
  }
  // Library errors can span lines (Prisma quotes the call site); the last line says what went wrong.
  return message.trim().split("\n").filter(Boolean).at(-1) ?? message;
}

/**
 * Zimbra's tools take multi-letter flags with one dash (-lb, -del, -ca, -pre, -br, -rf,
 * -restoreToTime, ...); commander wants two. Rewritten before parsing, so scripts written for
 * zmbackup and zmrestore keep their flags.
 */
const ZIMBRA_FLAGS: Record<string, string> = { "-lb": "--label", "-del": "--del", "-ca": "--ca", "-pre": "--pre", "-br": "--br", "-rf": "--rf" };

function zimbraArgs(argv: string[]): string[] {
  return argv.map((arg, i) => (i < 2 ? arg : (ZIMBRA_FLAGS[arg] ?? (/^-[a-zA-Z]{2,}$/.test(arg) ? `-${arg}` : arg))));
}

let failure: string | undefined;
try {
  await program.parseAsync(zimbraArgs(process.argv));
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode;
  else {
    failure = explain(error);
    console.error(`mailvault: ${failure}`);
    process.exitCode = error instanceof MailvaultError && error.kind === "unavailable" ? 3 : 1;
  }
} finally {
  if (audited && auditId !== null) {
    const ok = !process.exitCode;
    await finishAudit(auditId, { outcome: ok ? "ok" : failure ? "refused" : "failed", status: ok ? 0 : Number(process.exitCode), message: failure ?? "" }).catch((error: Error) =>
      console.error(`mailvault: could not record the outcome in the audit log: ${error.message}`),
    );
  }
  await Promise.allSettled([closeQueues(), closeStatusClient(), closeMailstores(), closeConsoleDb()]);
}
