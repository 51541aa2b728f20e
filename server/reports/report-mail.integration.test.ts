/**
 * Report mails through a real SMTP server on 127.0.0.1 (smtp-server), sent by real workers: one
 * per completed full and incremental, per restore run, per backup refused for free space and per
 * failed session, with the catalog's figures; with SMTP down the backup still completes and the
 * mail arrives once SMTP is back; a server's own recipients replace the global ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { submitBackup } from "../backup/submit-backup.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { appendToSchedule } from "../schedule/manage-schedule.ts";
import { resetConfig } from "../config.ts";
import { consolePool, prisma } from "../db/console-db.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../testing/smtp-sink.ts";
import { runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";

let sink: SmtpSink;
const saved = { url: process.env.MAILVAULT_SMTP_URL, from: process.env.MAILVAULT_REPORT_FROM, to: process.env.MAILVAULT_REPORT_TO };

beforeAll(async () => {
  sink = await startSmtpSink();
  process.env.MAILVAULT_SMTP_URL = sink.url;
  process.env.MAILVAULT_REPORT_FROM = "mailvault@backup.example.com";
  process.env.MAILVAULT_REPORT_TO = "ops@example.com, oncall@example.com";
  resetConfig();
});
afterAll(async () => {
  await sink?.stop();
  for (const [key, value] of [["MAILVAULT_SMTP_URL", saved.url], ["MAILVAULT_REPORT_FROM", saved.from], ["MAILVAULT_REPORT_TO", saved.to]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetConfig();
});

const fx = useMailServer({ accounts: { prefix: "report", count: 4 }, traffic: { ops: 200, seed: 61 }, workers: startWorkers });

function mailAbout(subject: string): Promise<ReceivedMail> {
  return waitFor(async () => sink.messages.find((m) => m.subject === subject), `a report mail "${subject}"`, 120_000);
}

async function sessionRow(label: string) {
  return prisma().backupSession.findFirstOrThrow({ where: { label }, include: { accounts: true } });
}

describe("report mails", () => {
  it("report a completed full and incremental with the catalog's figures, and a restore run", async () => {
    for (const type of ["full", "incremental"] as const) {
      const { label } = await runBackup("mail1", type);
      const mail = await mailAbout(`[Mailvault] mail1 ${label}: completed`);
      expect(mail.to).toEqual(["ops@example.com", "oncall@example.com"]);
      expect(mail.from).toBe("mailvault@backup.example.com");
      const s = await sessionRow(label);
      const fulls = s.accounts.filter((a) => a.kind === "full").length;
      expect(mail.text).toContain(`Outcome:            completed`);
      expect(mail.text).toContain(`Accounts:           ${s.accountsDone} of ${s.accountsTotal} done (${fulls} full snapshot(s), ${s.accounts.length - fulls} by their redo only); 0 failed; 0 skipped`);
      expect(mail.text).toContain(`Redo:               sequence ${Number(s.redoFromSeq ?? 0) + 1} through ${s.redoThroughSeq} (${s.redoSegments} segment(s))`);
      expect(mail.text).toContain(`Started:            ${s.startedAt!.toISOString().slice(0, 19).replace("T", " ")} UTC`);
      expect(mail.text).toContain(`Ended:              ${s.endedAt!.toISOString().slice(0, 19).replace("T", " ")} UTC`);
      expect(mail.text).toContain(`Bytes stored:       ${(Number(s.bytesWritten) / 2 ** 20).toFixed(1)} MiB written, of which ${(Number(s.blobBytesNew) / 2 ** 20).toFixed(1)} MiB new message bodies (${s.blobsNew} blob(s))`);
      expect(mail.text).toMatch(/Target free space: {2}[\d.]+ [MG]iB \([\d.]+%\) free; minimum 1\.00 GiB and 5%/);
      expect(mail.text).toContain("Next scheduled run: none: this server has no scheduled backups");
      // The server's red flag comes first: nothing would ever back it up on its own.
      expect(mail.text).toContain("ATTENTION:\n  ! mail1 has no scheduled backups: nothing is backed up unless someone starts it");
      expect(mail.html).toContain(`<th align="left">Outcome</th><td>completed</td>`);
      const seconds = Math.round((s.endedAt!.getTime() - s.startedAt!.getTime()) / 1000);
      expect(mail.text).toContain(`Duration:           ${seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`}`);
      expect(mail.text).toContain(`Bytes read:         ${(Number(s.blobBytesReferenced) / 2 ** 20).toFixed(1)} MiB of message bodies`);
      const [read, added] = [Number(s.blobBytesReferenced), Number(s.blobBytesNew)];
      expect(mail.text).toContain(`Dedup:              ${added > 0 ? `${(read / added).toFixed(2)}:1 (bodies read / new bodies stored)` : read > 0 ? "every body was already stored" : "no bodies"}`);
    }
    const run = await runRestore({ server: "mail1", accounts: [fx.accounts[0]!.email], copy: true, prefix: "rep_" });
    const mail = await mailAbout(`[Mailvault] mail1 ${run.label}: completed`);
    expect(mail.text).toContain("Accounts:           1 of 1 restored; 0 not restored");
    expect(mail.text).toContain(`${fx.accounts[0]!.email} into rep_${fx.accounts[0]!.email}`);
  });

  it("reports a backup refused for free space, which does not run", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    const settings = server.settings as object;
    await prisma().server.update({ where: { id: server.id }, data: { settings: { ...settings, minFreePercent: 100 } } });
    const sessions = await prisma().backupSession.count();
    try {
      await expect(submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" })).rejects.toMatchObject({ code: "insufficient_space" });
      const mail = await mailAbout("[Mailvault] mail1 full backup: refused, not enough free space");
      expect(mail.text).toMatch(/Why: +backup target .* free; this server needs at least 1\.0 GiB and 100% before a backup starts/);
      expect(await prisma().backupSession.count()).toBe(sessions);
    } finally {
      await prisma().server.update({ where: { id: server.id }, data: { settings } });
    }
  });

  it("lets a backup complete while SMTP is down, and sends its mail once SMTP is back, to the server's own recipients", async () => {
    const server = await prisma().server.findUniqueOrThrow({ where: { name: "mail1" } });
    await prisma().server.update({ where: { id: server.id }, data: { settings: { ...(server.settings as object), reportTo: ["mail1-admins@example.com"] } } });
    await sink.stop();
    const { label } = await runBackup("mail1", "incremental");
    // The send was tried, failed, and waits for its retry.
    await waitFor(async () => {
      const { rows } = await consolePool().query<{ error: string | null }>("SELECT error FROM report_outbox WHERE label = $1", [label]);
      return rows[0]?.error;
    }, "the first try to fail", 60_000);
    await sink.start();
    const mail = await mailAbout(`[Mailvault] mail1 ${label}: completed`);
    expect(mail.to).toEqual(["mail1-admins@example.com"]);
    // The outbox row is marked sent once the SMTP server has answered, a moment after the sink holds the mail.
    const rows = await waitFor(async () => {
      const { rows } = await consolePool().query<{ state: string; recipients: string[] }>("SELECT state, recipients FROM report_outbox WHERE label = $1", [label]);
      return rows.every((r) => r.state !== "queued") && rows;
    }, "the outbox row to leave queued");
    expect(rows).toEqual([{ state: "sent", recipients: ["mail1-admins@example.com"] }]);
    expect(sink.messages.filter((m) => m.subject === mail.subject)).toHaveLength(1);
  });

  it("mails a daily summary from an s schedule entry, with the day's sessions and the red flags", async () => {
    const view = await appendToSchedule({ server: "mail1", by: "test", entries: [{ type: "s", pattern: "0 7 29 2 *" }] });
    const entry = view.entries.at(-1)!;
    expect(entry).toMatchObject({ type: "summary", code: "s" });
    await enqueueJob("mail1", "schedule.summary", { entry: entry.n, pattern: entry.pattern, tz: entry.tz });
    const mail = await mailAbout("[Mailvault] mail1 daily summary: attention needed");
    const sessions = await prisma().backupSession.findMany({ where: { createdAt: { gt: new Date(Date.now() - 86_400_000) } }, orderBy: { createdAt: "asc" } });
    expect(mail.text).toMatch(new RegExp(`Sessions, last 24 h: +${sessions.length}: ${sessions.length} completed or running, 0 failed`));
    for (const s of sessions) expect(mail.text).toContain(`  - ${s.label}: ${s.status}`);
    expect(mail.text).toMatch(/Restore runs, last 24 h: +1\n/);
    expect(mail.text).toContain("! mail1 has no scheduled backups");
    expect(mail.to).toEqual(["mail1-admins@example.com"]);
  });

  it("reports a failed session with the reason for each account that failed", async () => {
    // A mailbox group lost (the disaster the product exists for): its accounts cannot be backed up.
    const { rows } = await fx.store.pool.query<{ group_id: number; n: number }>("SELECT group_id, count(*)::int AS n FROM mailstore.mailbox GROUP BY group_id ORDER BY n DESC LIMIT 1");
    await fx.store.pool.query(`DROP SCHEMA mboxgroup${rows[0]!.group_id} CASCADE`);
    const { label } = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test" });
    const mail = await mailAbout(`[Mailvault] mail1 ${label}: failed`);
    const s = await sessionRow(label);
    expect(s.status).toBe("failed");
    expect(mail.text).toMatch(new RegExp(`Accounts: +${s.accountsDone} of ${s.accountsTotal} done .*; [1-9]\\d* failed`));
    expect(mail.text).toContain("Failures:");
    for (const problem of s.error!.split("; ")) expect(mail.text).toContain(`  - ${problem}`);
  });
});
