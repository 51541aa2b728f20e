/**
 * Report mails from the outbox (`report_outbox`): a row per ended session or restore run (added
 * by triggers in the same transaction as the end) and per backup refused for free space. A
 * worker's dispatch turns new rows into `report.send` jobs (the job id is the row's, so two
 * workers never send one twice); the job composes the mail from the catalog and sends it with
 * nodemailer, and BullMQ retries it with backoff while SMTP fails. Nothing here can fail or delay
 * a backup: the backup's transaction only adds a row.
 */
import { config } from "../config.ts";
import { consolePool } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { composeReport, type ReportRef } from "./compose-report.ts";

/** A backup refused before it had a session (free space) reports through the outbox too. */
export async function reportRefusal(server: string, type: string, detail: string): Promise<void> {
  await consolePool().query("INSERT INTO report_outbox (server, kind, label, status, detail) VALUES ($1, 'refusal', $2, 'refused', $3)", [server, type, detail]);
}

/** A verify run reports like a backup: its outcome and each session's result, in the outbox. */
export async function reportVerify(server: string, scope: string, reports: { label: string; ok: boolean; problems: { path: string; message: string }[] }[]): Promise<void> {
  const damaged = reports.filter((r) => !r.ok);
  const detail = reports.map((r) => (r.ok ? `${r.label}: ok` : `${r.label}: DAMAGED (${r.problems.length} problem(s); first: ${r.problems[0]?.path}: ${r.problems[0]?.message})`)).join("\n");
  await consolePool().query("INSERT INTO report_outbox (server, kind, label, status, detail) VALUES ($1, 'verify', $2, $3, $4)", [server, scope, damaged.length ? "damaged" : "ok", detail]);
}

/** A summary mail of the server's last day (an `s` schedule entry). */
export async function reportSummary(server: string): Promise<void> {
  await consolePool().query("INSERT INTO report_outbox (server, kind, label, status) VALUES ($1, 'summary', 'daily', 'summary')", [server]);
}

/** Who gets the server's reports: its own reportTo, else MAILVAULT_REPORT_TO. */
export function reportRecipients(reportTo: string[]): string[] {
  return reportTo.length ? reportTo : config().MAILVAULT_REPORT_TO;
}

/** New outbox rows of these servers become report.send jobs; returns how many were queued. */
export async function dispatchReports(servers: string[]): Promise<number> {
  const { rows } = await consolePool().query<{ id: string; server: string }>(
    "SELECT id, server FROM report_outbox WHERE state = 'new' AND server = ANY($1::text[]) ORDER BY id LIMIT 100",
    [servers],
  );
  for (const row of rows) {
    // Queued first, marked after: a crash between leaves a row the next dispatch queues again,
    // and the job id makes that a no-op.
    await enqueueJob(row.server, "report.send", { id: Number(row.id) });
    await consolePool().query("UPDATE report_outbox SET state = 'queued', queued_at = now() WHERE id = $1 AND state = 'new'", [row.id]);
  }
  return rows.length;
}

export type SendOutcome = { sent: string; to: string[] } | { skipped: string };

/** The `report.send` job: composes and sends one report; throws (for BullMQ to retry) while SMTP fails. */
export async function sendReport(id: number): Promise<SendOutcome> {
  const { rows } = await consolePool().query<ReportRef & { state: string; subject: string; recipients: string[] }>(
    "SELECT server, kind, label, status, detail, state, subject, recipients FROM report_outbox WHERE id = $1",
    [id],
  );
  const row = rows[0];
  if (!row) return { skipped: `report ${id} is not in the outbox` };
  if (row.state === "sent") return { sent: row.subject, to: row.recipients ?? [] };
  const { MAILVAULT_SMTP_URL, MAILVAULT_REPORT_FROM } = config();
  const server = await getServer(row.server);
  const to = reportRecipients(server.settings.reportTo);
  const skip = !MAILVAULT_SMTP_URL ? "no MAILVAULT_SMTP_URL: report mails are off" : !to.length ? `nobody to send to: set MAILVAULT_REPORT_TO or ${row.server}'s reportTo` : null;
  if (skip) {
    await consolePool().query("UPDATE report_outbox SET state = 'skipped', error = $2 WHERE id = $1", [id, skip]);
    return { skipped: skip };
  }
  const mail = await composeReport(row, server);
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport(MAILVAULT_SMTP_URL!, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as object);
  try {
    await transport.sendMail({ from: MAILVAULT_REPORT_FROM, to, subject: mail.subject, text: mail.text, html: mail.html });
  } catch (error) {
    await consolePool().query("UPDATE report_outbox SET error = $2, subject = $3 WHERE id = $1", [id, (error as Error).message, mail.subject]);
    throw new Error(`report mail "${mail.subject}" not sent: ${(error as Error).message}`);
  } finally {
    transport.close();
  }
  await consolePool().query("UPDATE report_outbox SET state = 'sent', sent_at = now(), recipients = $2, subject = $3, error = NULL WHERE id = $1", [id, to, mail.subject]);
  return { sent: mail.subject, to };
}

/** The newest report of a server (the server page shows it). */
export async function lastReport(server: string): Promise<{ subject: string; state: string; recipients: string[]; createdAt: string; sentAt: string | null; error: string | null } | null> {
  const { rows } = await consolePool().query<{ subject: string; state: string; recipients: string[]; created_at: Date; sent_at: Date | null; error: string | null; kind: string; label: string; status: string }>(
    "SELECT subject, state, recipients, created_at, sent_at, error, kind, label, status FROM report_outbox WHERE server = $1 ORDER BY id DESC LIMIT 1",
    [server],
  );
  const r = rows[0];
  if (!r) return null;
  return { subject: r.subject || `${server} ${r.label}: ${r.status}`, state: r.state, recipients: r.recipients ?? [], createdAt: r.created_at.toISOString(), sentAt: r.sent_at?.toISOString() ?? null, error: r.error };
}

/** What the server page shows of its report mails: whether mail is on, who gets them, the newest. */
export async function reportSettings(serverName: string) {
  const server = await getServer(serverName);
  return { enabled: Boolean(config().MAILVAULT_SMTP_URL), own: server.settings.reportTo, recipients: reportRecipients(server.settings.reportTo), last: await lastReport(server.name) };
}
