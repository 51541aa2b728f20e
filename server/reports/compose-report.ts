/**
 * The report mail of an ended backup session, an ended restore run, or a backup refused for free
 * space, as Zimbra sends one to the admin after every backup: a subject that says what and how it
 * ended, and a body (plain text and HTML) with the figures from the catalog: start, end and
 * duration; accounts done, failed and skipped with each reason; the redo range; bytes read and
 * stored and the dedup ratio; the target's free space against its minimum; the next scheduled run.
 */
import { consolePool } from "../db/console-db.ts";
import { isObjectStore, measureFreeSpace } from "../backup/free-space.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { riskOf } from "../health/server-risks.ts";
import { redoRpo } from "../redo/redo-rpo.ts";
import { getSchedule } from "../schedule/manage-schedule.ts";

export interface ReportRef {
  server: string;
  kind: "session" | "restore" | "refusal" | "verify" | "summary" | "rpo" | "drill";
  label: string;
  status: string;
  detail: string;
}

export interface ComposedReport {
  subject: string;
  text: string;
  html: string;
}

type Line = [label: string, value: string];

function mib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function utc(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—";
}

function duration(from: Date | null, to: Date | null): string {
  if (!from || !to) return "—";
  const s = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function render(subject: string, lines: Line[], lists: { title: string; items: string[] }[]): ComposedReport {
  const width = Math.max(...lines.map(([l]) => l.length));
  const text = [
    subject.replace(/^\[Mailvault\] /, ""),
    "",
    ...lines.map(([l, v]) => `${`${l}:`.padEnd(width + 2)}${v}`),
    ...lists.filter((l) => l.items.length).flatMap((l) => ["", `${l.title}:`, ...l.items.map((i) => `  - ${i}`)]),
    "",
    "-- Mailvault",
  ].join("\n");
  const html = [
    `<html><body style="font-family: sans-serif; font-size: 14px">`,
    `<h2 style="font-size: 16px">${escape(subject.replace(/^\[Mailvault\] /, ""))}</h2>`,
    `<table cellpadding="3">${lines.map(([l, v]) => `<tr><th align="left">${escape(l)}</th><td>${escape(v)}</td></tr>`).join("")}</table>`,
    ...lists.filter((l) => l.items.length).map((l) => `<h3 style="font-size: 14px">${escape(l.title)}</h3><ul>${l.items.map((i) => `<li>${escape(i)}</li>`).join("")}</ul>`),
    `</body></html>`,
  ].join("\n");
  return { subject, text, html };
}

async function freeSpaceLine(server: ServerSummary): Promise<string> {
  if (isObjectStore(server.backupTarget)) return `${server.backupTarget.replace(/\?.*$/, "")} is an object store (no fixed free space)`;
  const { minFreeBytes, minFreePercent } = server.settings;
  try {
    const free = await measureFreeSpace(server.backupTarget);
    const below = free.freeBytes < minFreeBytes || free.freePercent < minFreePercent;
    return `${mib(free.freeBytes)} (${free.freePercent.toFixed(1)}%) free; minimum ${mib(minFreeBytes)} and ${minFreePercent}%${below ? " — BELOW THE MINIMUM: the next backup will not start" : ""}`;
  } catch (error) {
    return `could not be measured: ${(error as Error).message}`;
  }
}

async function nextRunLine(server: string): Promise<string> {
  const view = await getSchedule(server).catch(() => null);
  if (!view) return "unknown (the schedule could not be read)";
  const next = view.entries
    .filter((e) => e.type === "full" || e.type === "incremental" || e.type === "auto_grouped")
    .flatMap((e) => (e.nextRuns[0] ? [{ at: e.nextRuns[0].at, text: `${e.action.split(":")[0]} at ${e.nextRuns[0].local} ${e.tz}` }] : []))
    .sort((a, b) => a.at.localeCompare(b.at))[0];
  return next ? next.text : "none: this server has no scheduled backups";
}

async function sessionReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const { rows } = await consolePool().query<{
    type: string; mode: string; status: string; requested_by: string; started_at: Date | null; ended_at: Date | null; created_at: Date;
    accounts_total: number; accounts_done: number; redo_from_seq: string | null; redo_through_seq: string | null; redo_segments: number;
    bytes_written: string; blob_bytes_referenced: string; blob_bytes_new: string; blobs_new: number; error: string | null; warnings: string[];
    fulls: number; redo_only: number;
  }>(
    `SELECT b.type::text, b.mode::text, b.status::text, b.requested_by, b.started_at, b.ended_at, b.created_at, b.accounts_total, b.accounts_done,
            b.redo_from_seq, b.redo_through_seq, b.redo_segments, b.bytes_written, b.blob_bytes_referenced, b.blob_bytes_new, b.blobs_new, b.error, b.warnings,
            (SELECT count(*)::int FROM session_account a WHERE a.session_id = b.id AND a.kind = 'full') AS fulls,
            (SELECT count(*)::int FROM session_account a WHERE a.session_id = b.id AND a.kind = 'redo') AS redo_only
       FROM backup_session b JOIN server v ON v.id = b.server_id WHERE v.name = $1 AND b.label = $2`,
    [ref.server, ref.label],
  );
  const s = rows[0];
  if (!s) throw new Error(`no session ${ref.label} of ${ref.server} in the catalog`);
  const referenced = Number(s.blob_bytes_referenced);
  const added = Number(s.blob_bytes_new);
  const failures = s.status === "completed" ? [] : (s.error ?? "").split("; ").filter(Boolean);
  const skipped = (s.warnings ?? []).filter((w) => w.includes("skipped"));
  const kind = s.mode === "auto_grouped" ? "auto-grouped" : s.type;
  const lines: Line[] = [
    ["Server", ref.server],
    ["Session", `${ref.label} (${kind}, asked by ${s.requested_by || "—"})`],
    ["Outcome", s.status],
    ["Started", utc(s.started_at ?? s.created_at)],
    ["Ended", utc(s.ended_at)],
    ["Duration", duration(s.started_at ?? s.created_at, s.ended_at)],
    ["Accounts", `${s.accounts_done} of ${s.accounts_total} done (${s.fulls} full snapshot(s), ${s.redo_only} by their redo only); ${failures.length} failed; ${skipped.length} skipped`],
    ["Redo", s.redo_through_seq === null ? "none moved" : `sequence ${Number(s.redo_from_seq ?? 0) + 1} through ${s.redo_through_seq} (${s.redo_segments} segment(s))`],
    ["Bytes read", `${mib(referenced)} of message bodies`],
    ["Bytes stored", `${mib(Number(s.bytes_written))} written, of which ${mib(added)} new message bodies (${s.blobs_new} blob(s))`],
    ["Dedup", added > 0 ? `${(referenced / added).toFixed(2)}:1 (bodies read / new bodies stored)` : referenced > 0 ? "every body was already stored" : "no bodies"],
    ["Target free space", await freeSpaceLine(server)],
    ["Next scheduled run", await nextRunLine(ref.server)],
  ];
  return render(`[Mailvault] ${ref.server} ${ref.label}: ${s.status}`, lines, [
    { title: "Failures", items: failures },
    { title: "Skipped", items: skipped },
  ]);
}

async function restoreReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const { rows } = await consolePool().query<{ status: string; requested_by: string; created_at: Date; started_at: Date | null; ended_at: Date | null; accounts_total: number; error: string | null; result: { restored?: { requested: string; target: string }[]; notRestored?: { requested: string; reason: string }[]; summary?: string } | null }>(
    "SELECT status, requested_by, created_at, started_at, ended_at, accounts_total, error, result FROM restore_run WHERE server = $1 AND label = $2",
    [ref.server, ref.label],
  );
  const r = rows[0];
  if (!r) throw new Error(`no restore run ${ref.label} of ${ref.server}`);
  const restored = r.result?.restored ?? [];
  const notRestored = r.result?.notRestored ?? [];
  const lines: Line[] = [
    ["Server", ref.server],
    ["Restore run", `${ref.label} (asked by ${r.requested_by || "—"})`],
    ["Outcome", r.status],
    ["Started", utc(r.started_at ?? r.created_at)],
    ["Ended", utc(r.ended_at)],
    ["Duration", duration(r.started_at ?? r.created_at, r.ended_at)],
    ["Accounts", `${restored.length} of ${r.accounts_total} restored; ${notRestored.length} not restored`],
    ["Target free space", await freeSpaceLine(server)],
    ["Next scheduled run", await nextRunLine(ref.server)],
  ];
  return render(`[Mailvault] ${ref.server} ${ref.label}: ${r.status}`, lines, [
    { title: "Restored", items: restored.map((a) => (a.target === a.requested ? `${a.requested}, in place` : `${a.requested} into ${a.target}`)) },
    { title: "Not restored", items: [...notRestored.map((a) => `${a.requested}: ${a.reason}`), ...(r.error && !notRestored.length ? [r.error] : [])] },
  ]);
}

async function refusalReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const lines: Line[] = [
    ["Server", ref.server],
    ["Backup", `${ref.label} backup, not started`],
    ["Why", ref.detail],
    ["Target free space", await freeSpaceLine(server)],
    ["Next scheduled run", await nextRunLine(ref.server)],
  ];
  return render(`[Mailvault] ${ref.server} ${ref.label} backup: refused, not enough free space`, lines, []);
}

async function verifyReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const results = ref.detail.split("\n").filter(Boolean);
  const damaged = results.filter((r) => r.includes(": DAMAGED"));
  const what = ref.label === "all" ? "every session and the repository" : `the newest ${ref.label} session(s)`;
  const lines: Line[] = [
    ["Server", ref.server],
    ["Verified", `${what}: ${results.length} checked, ${damaged.length} damaged`],
    ["Target free space", await freeSpaceLine(server)],
    ["Next scheduled run", await nextRunLine(ref.server)],
  ];
  return render(`[Mailvault] ${ref.server} verify of ${what}: ${damaged.length ? "DAMAGED" : "ok"}`, lines, [
    { title: "Damaged", items: damaged },
    { title: "Results", items: results },
  ]);
}

/** An RPO alert (rpo-alert.ts): `status` high (it went above the server's limit) or ok (back under it). */
async function rpoReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const rpo = await redoRpo(server.name).catch(() => null);
  const lines: Line[] = [
    ["Server", ref.server],
    ["What", ref.detail],
    ["RPO limit", `${server.settings.rpoAlertSeconds} s (rpoAlertSeconds)`],
  ];
  const subject = ref.status === "high" ? `[Mailvault] ${ref.server} RPO above its limit: recent mail is not off the machine` : `[Mailvault] ${ref.server} RPO back within its limit`;
  return render(subject, lines, [
    {
      title: "Targets now",
      items: (rpo?.targets ?? []).map(
        (t) => `${t.name} (${t.location}${t.sameMachine ? ", same machine" : ""}): holds through ${t.lastShippedSeq}, ${t.unshippedRecords} records not yet, RPO ${t.rpoSeconds} s${t.lastError ? `; failing: ${t.lastError}` : ""}`,
      ),
    },
  ]);
}

async function drillReport(ref: ReportRef): Promise<ComposedReport> {
  const { rows } = await consolePool().query<{ evidence: { email: string; point: { seq: number }; identical: boolean; error?: string; differences: string[] }[]; started_at: Date | null; ended_at: Date | null }>(
    "SELECT evidence, started_at, ended_at FROM restore_drill WHERE label = $1",
    [ref.label],
  );
  const drill = rows[0];
  const lines: Line[] = [
    ["Server", ref.server],
    ["Drill", ref.label],
    ["Outcome", ref.status === "error" ? "could not run" : ref.status],
    ["What", ref.detail],
    ["Started", utc(drill?.started_at ?? null)],
    ["Duration", duration(drill?.started_at ?? null, drill?.ended_at ?? null)],
  ];
  const subject = `[Mailvault] ${ref.server} restore drill ${ref.status === "error" ? "could not run" : ref.status}: ${ref.label}`;
  return render(subject, lines, [
    {
      title: "Accounts",
      items: (drill?.evidence ?? []).map((e) => `${e.email} at redo ${e.point.seq}: ${e.identical ? "identical" : (e.error ?? e.differences.slice(0, 3).join("; "))}`),
    },
  ]);
}

async function summaryReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const pool = consolePool();
  const [{ rows: sessions }, { rows: runs }, risk] = await Promise.all([
    pool.query<{ label: string; status: string; ended_at: Date | null; error: string | null }>(
      `SELECT b.label, b.status::text, b.ended_at, b.error FROM backup_session b JOIN server v ON v.id = b.server_id
        WHERE v.name = $1 AND b.created_at > now() - interval '24 hours' ORDER BY b.created_at`,
      [ref.server],
    ),
    pool.query<{ label: string; status: string; error: string | null }>("SELECT label, status, error FROM restore_run WHERE server = $1 AND created_at > now() - interval '24 hours' ORDER BY created_at", [ref.server]),
    riskOf(server).catch(() => null),
  ]);
  const bad = sessions.filter((s) => s.status !== "completed" && s.status !== "running" && s.status !== "queued");
  const recoverable = risk?.newestRecoverable;
  const lines: Line[] = [
    ["Server", ref.server],
    ["Sessions, last 24 h", `${sessions.length}: ${sessions.length - bad.length} completed or running, ${bad.length} failed, aborted or interrupted`],
    ["Restore runs, last 24 h", `${runs.length}`],
    ["Newest recoverable point", recoverable ? `${utc(new Date(recoverable.at))} (${duration(new Date(recoverable.at), new Date())} ago, ${recoverable.from})` : "none"],
    ["Target free space", await freeSpaceLine(server)],
    ["Next scheduled run", await nextRunLine(ref.server)],
  ];
  const outcome = bad.length || risk?.flags.length ? "attention needed" : "all well";
  return render(`[Mailvault] ${ref.server} daily summary: ${outcome}`, lines, [
    { title: "Sessions", items: sessions.map((s) => `${s.label}: ${s.status}${s.error ? ` (${s.error.slice(0, 200)})` : ""}`) },
    { title: "Restore runs", items: runs.map((r) => `${r.label}: ${r.status}${r.error ? ` (${r.error.slice(0, 200)})` : ""}`) },
  ]);
}

/** The report, with the server's red flags (server-risks.ts) first when it has any. */
export async function composeReport(ref: ReportRef, server: ServerSummary): Promise<ComposedReport> {
  const [report, risk] = await Promise.all([
    ref.kind === "session" ? sessionReport(ref, server) : ref.kind === "restore" ? restoreReport(ref, server) : ref.kind === "verify" ? verifyReport(ref, server) : ref.kind === "summary" ? summaryReport(ref, server) : ref.kind === "rpo" ? rpoReport(ref, server) : ref.kind === "drill" ? drillReport(ref) : refusalReport(ref, server),
    riskOf(server).catch(() => null),
  ]);
  if (!risk?.flags.length) return report;
  const flags = risk.flags.map((f) => f.message);
  return {
    subject: report.subject,
    text: report.text.replace("\n\n", `\n\nATTENTION:\n${flags.map((f) => `  ! ${f}`).join("\n")}\n\n`),
    html: report.html.replace("<table", `<div style="color: #b91c1c"><strong>Attention</strong><ul>${flags.map((f) => `<li>${escape(f)}</li>`).join("")}</ul></div><table`),
  };
}
