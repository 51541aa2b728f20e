/**
 * Prometheus metrics (`GET /api/metrics`, docs/monitoring.md), in the text exposition format of
 * prom-client. Each scrape builds a fresh registry from the sources of truth: the catalog and the
 * outcome counters in the console database, the dashboard's facts (redo, free space, queues) and
 * the workers' heartbeats. Nothing is kept between scrapes, so every console process answers the
 * same and a restart loses nothing (the counters live in `outcome_count`, kept by triggers).
 */
import { timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Registry } from "prom-client";
import { config } from "../config.ts";
import { consolePool } from "../db/console-db.ts";
import { checkHealth } from "./check-health.ts";
import { dashboardFacts } from "./dashboard-facts.ts";

/**
 * Off unless MAILVAULT_METRICS_TOKEN is set (the route answers 404, as for no such address);
 * then only for `Authorization: Bearer <token>` (401 otherwise), compared in constant time.
 */
export function metricsAccess(authorization: string | null): "off" | "denied" | "allowed" {
  const token = config().MAILVAULT_METRICS_TOKEN;
  if (!token) return "off";
  const given = Buffer.from(/^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "");
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? "allowed" : "denied";
}

const seconds = (date: Date) => date.getTime() / 1000;

export async function collectMetrics(): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [registry] });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [registry] });

  const lastBackup = gauge("mailvault_last_backup_timestamp_seconds", "When the newest completed backup session of this type ended (Unix time).", ["server", "type"]);
  const lastDuration = gauge("mailvault_last_session_duration_seconds", "Start to end of the newest ended backup session, whatever its outcome.", ["server", "type", "status"]);
  const lastBytes = gauge("mailvault_last_session_bytes_written", "Bytes the newest ended backup session wrote to its target.", ["server", "type", "status"]);
  const sessions = counter("mailvault_backup_sessions_total", "Backup sessions that ended, by type and outcome.", ["server", "type", "status"]);
  const restores = counter("mailvault_restore_runs_total", "Restore runs that ended, by outcome.", ["server", "status"]);
  const redoSeq = gauge("mailvault_redo_sequence", "The server's current redo sequence number.", ["server"]);
  const lagRecords = gauge("mailvault_redo_archive_lag_records", "Committed redo records not yet archived.", ["server"]);
  const lagSeconds = gauge("mailvault_redo_archive_lag_seconds", "Age of the oldest redo record not yet archived (0 when none is waiting).", ["server"]);
  const recoverable = gauge("mailvault_newest_recoverable_point_timestamp_seconds", "The newest point a restore can reach from the backups and the redo archive (Unix time).", ["server"]);
  const freeBytes = gauge("mailvault_target_free_bytes", "Free bytes on the filesystem of the server's backup target folder (absent for an object store).", ["server"]);
  const minFreeBytes = gauge("mailvault_target_min_free_bytes", "The free space below which the server's backups refuse to start.", ["server"]);
  const jobs = gauge("mailvault_jobs", "Jobs on the server's queue, by state.", ["server", "state"]);
  const workers = gauge("mailvault_workers_alive", "Worker processes whose heartbeat for the server is fresh.", ["server"]);
  const flags = gauge("mailvault_risk_flag", "1 for each red flag the dashboard shows: no_schedule, no_recent_full, redo_lag, below_min_space, rpo_high, drill_failed.", ["server", "code"]);
  const drillPassed = gauge("mailvault_drill_last_passed", "1 when the server's last restore drill passed, 0 when it failed or could not run; absent before the first.", ["server"]);
  const drillRto = gauge("mailvault_drill_rto_seconds_per_mib", "Seconds of restore per MiB of mailbox, as the server's last restore drill measured it.", ["server"]);
  const rpoSeconds = gauge("mailvault_rpo_seconds", "Age of the oldest redo record the target does not hold yet (0 when it holds them all): what losing the machine now would lose, if rebuilt from it.", ["server", "target", "same_machine"]);
  const unshipped = gauge("mailvault_redo_unshipped_records", "Redo records the target does not hold yet.", ["server", "target"]);

  const pool = consolePool();
  const [facts, health, last, ended, counts] = await Promise.all([
    dashboardFacts(),
    checkHealth(),
    pool.query<{ server: string; type: string; ended_at: Date }>(
      `SELECT DISTINCT ON (v.name, b.type) v.name AS server, b.type::text AS type, b.ended_at
         FROM backup_session b JOIN server v ON v.id = b.server_id
        WHERE b.status = 'completed' AND b.ended_at IS NOT NULL ORDER BY v.name, b.type, b.ended_at DESC`,
    ),
    pool.query<{ server: string; type: string; status: string; started_at: Date | null; ended_at: Date; bytes_written: string }>(
      `SELECT DISTINCT ON (v.name) v.name AS server, b.type::text AS type, b.status::text AS status, b.started_at, b.ended_at, b.bytes_written
         FROM backup_session b JOIN server v ON v.id = b.server_id
        WHERE b.ended_at IS NOT NULL ORDER BY v.name, b.ended_at DESC`,
    ),
    pool.query<{ kind: string; server: string; type: string; status: string; count: string }>("SELECT kind, server, type, status, count FROM outcome_count"),
  ]);
  for (const r of last.rows) lastBackup.set({ server: r.server, type: r.type }, seconds(r.ended_at));
  for (const r of ended.rows) {
    const labels = { server: r.server, type: r.type, status: r.status };
    lastDuration.set(labels, r.started_at ? seconds(r.ended_at) - seconds(r.started_at) : 0);
    lastBytes.set(labels, Number(r.bytes_written));
  }
  for (const r of counts.rows) {
    if (r.kind === "backup") sessions.inc({ server: r.server, type: r.type, status: r.status }, Number(r.count));
    else restores.inc({ server: r.server, status: r.status }, Number(r.count));
  }
  for (const f of facts.servers) {
    if (f.redo) {
      redoSeq.set({ server: f.server }, f.redo.currentSeq);
      lagRecords.set({ server: f.server }, f.redo.unarchivedRecords);
      lagSeconds.set({ server: f.server }, f.redo.lagSeconds);
      // Everything archived is restorable; so is the newest completed session's end.
      const newestSession = last.rows.filter((r) => r.server === f.server).reduce((n, r) => Math.max(n, seconds(r.ended_at)), 0);
      const archived = f.redo.lastArchivedAt ? Date.parse(f.redo.lastArchivedAt) / 1000 : 0;
      if (newestSession || archived) recoverable.set({ server: f.server }, Math.max(newestSession, archived));
    }
    if (f.freeSpace) {
      freeBytes.set({ server: f.server }, f.freeSpace.freeBytes);
      minFreeBytes.set({ server: f.server }, f.freeSpace.minimumBytes);
    }
    if (f.jobs) for (const [state, n] of Object.entries(f.jobs)) jobs.set({ server: f.server, state }, n);
    workers.set({ server: f.server }, health.workers[f.server]?.count ?? 0);
    for (const flag of f.risk?.flags ?? []) flags.set({ server: f.server, code: flag.code }, 1);
    const drill = f.risk?.lastDrill;
    if (drill) drillPassed.set({ server: f.server }, drill.status === "passed" ? 1 : 0);
    if (drill?.rtoSecondsPerMib != null) drillRto.set({ server: f.server }, drill.rtoSecondsPerMib);
    for (const t of f.rpo?.targets ?? []) {
      rpoSeconds.set({ server: f.server, target: t.name, same_machine: String(t.sameMachine) }, t.rpoSeconds);
      unshipped.set({ server: f.server, target: t.name }, t.unshippedRecords);
    }
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}
