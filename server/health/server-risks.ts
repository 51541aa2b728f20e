/**
 * What puts a server's mail at risk, as the dashboard, the report mails and the metrics show it:
 * the newest point a restore can reach (the newest completed session's end, or the last archive
 * of the redo, whichever is later) and its age, the next scheduled backup, and red flags: no
 * schedule at all, no completed full within the server's cycle (`fullCycleDays`, 7 by default),
 * a redo archive lag over twice its age limit, a backup target below its free-space minimum, and
 * with redo shipping on, an RPO above the server's `rpoAlertSeconds` (redo-rpo.ts), and a last
 * restore drill that failed (server/drill/run-drill.ts), whose outcome and RTO are shown too.
 */
import { consolePool } from "../db/console-db.ts";
import { bestTarget, redoRpo, type ServerRpo } from "../redo/redo-rpo.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { isObjectStore, measureFreeSpace } from "../backup/free-space.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { redoStatus, type StoreStatus } from "../mailstore/store-status.ts";
import { nextRuns } from "../schedule/cron.ts";
import { storedSchedules } from "../schedule/manage-schedule.ts";
import { ENTRY_NAMES } from "../schedule/schedule-entry.ts";

export type RiskCode = "no_schedule" | "no_recent_full" | "redo_lag" | "below_min_space" | "rpo_high" | "drill_failed";

export interface ServerRisk {
  newestRecoverable: { at: string; ageSeconds: number; from: "session" | "redo archive" } | null;
  nextBackup: { at: string; what: string } | null;
  /**
   * What losing the machine now would lose: the RPO of the best target off the machine, or of the
   * best target at all when every one is on it (`offMachine` false). Null with shipping off.
   */
  rpo: { seconds: number; target: string; offMachine: boolean } | null;
  /** The newest ended restore drill: passed, failed or error, with the RTO it measured. */
  lastDrill: { label: string; status: string; endedAt: string; rtoSecondsPerMib: number | null; summary: string } | null;
  flags: { code: RiskCode; message: string }[];
}

export interface RiskInputs {
  redo: StoreStatus["redo"] | null;
  belowMinimumSpace: boolean;
  rpo?: ServerRpo | null;
}

function days(seconds: number): string {
  return seconds < 2 * 86_400 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} days`;
}

export async function serverRisks(servers: ServerSummary[], inputs: Map<string, RiskInputs>, now = new Date()): Promise<Map<string, ServerRisk>> {
  const names = servers.map((s) => s.name);
  const [schedules, { rows: ends }, { rows: drills }] = await Promise.all([
    storedSchedules(names),
    consolePool().query<{ server: string; last_any: Date | null; last_full: Date | null }>(
      `SELECT v.name AS server,
              (SELECT max(ended_at) FROM backup_session b WHERE b.server_id = v.id AND b.status = 'completed') AS last_any,
              (SELECT max(ended_at) FROM backup_session b WHERE b.server_id = v.id AND b.status = 'completed' AND b.type = 'full') AS last_full
         FROM server v WHERE v.name = ANY($1::text[])`,
      [names],
    ),
    consolePool().query<{ server: string; label: string; status: string; ended_at: Date; rto_seconds_per_mib: number | null; summary: string | null }>(
      `SELECT DISTINCT ON (server) server, label, status, ended_at, rto_seconds_per_mib, summary FROM restore_drill
        WHERE server = ANY($1::text[]) AND status IN ('passed', 'failed', 'error') ORDER BY server, created_at DESC`,
      [names],
    ),
  ]);
  const risks = new Map<string, ServerRisk>();
  for (const server of servers) {
    const input = inputs.get(server.name);
    const end = ends.find((e) => e.server === server.name);
    const flags: ServerRisk["flags"] = [];
    const entries = schedules.get(server.name) ?? [];
    const backups = entries.filter((e) => e.type === "full" || e.type === "incremental" || e.type === "auto_grouped");
    if (!backups.length) flags.push({ code: "no_schedule", message: `${server.name} has no scheduled backups: nothing is backed up unless someone starts it` });
    const fullAge = end?.last_full ? (now.getTime() - end.last_full.getTime()) / 1000 : null;
    if (fullAge === null || fullAge > server.settings.fullCycleDays * 86_400) {
      flags.push({
        code: "no_recent_full",
        message: fullAge === null ? `${server.name} has no completed full backup` : `${server.name}'s last completed full backup ended ${days(fullAge)} ago (its cycle is ${server.settings.fullCycleDays} days)`,
      });
    }
    const limit = 2 * server.settings.redoArchive.maxAgeSeconds;
    if (input?.redo && input.redo.lagSeconds > limit) flags.push({ code: "redo_lag", message: `${server.name}'s redo archive lags ${days(input.redo.lagSeconds)} behind (limit ${limit} s): a lost mailstore database would lose that much` });
    if (input?.belowMinimumSpace) flags.push({ code: "below_min_space", message: `${server.name}'s backup target is below its free-space minimum: the next backup will be refused` });

    const rpo = rpoOf(input?.rpo ?? null);
    if (rpo && rpo.seconds > server.settings.rpoAlertSeconds) {
      const failing = input!.rpo!.targets.find((t) => t.name === rpo.target)?.lastError;
      flags.push({
        code: "rpo_high",
        message: `${server.name}'s newest ${days(rpo.seconds)} of mail are on no ${rpo.offMachine ? "other machine" : "target"} yet (RPO limit ${server.settings.rpoAlertSeconds} s)${failing ? `: shipping to ${rpo.target} fails: ${failing}` : ""}`,
      });
    }

    const drill = drills.find((d) => d.server === server.name);
    if (drill && drill.status !== "passed") flags.push({ code: "drill_failed", message: `${server.name}'s last restore drill (${drill.label}) ${drill.status === "error" ? "could not run" : "failed"}: ${drill.summary ?? ""}` });

    const archivedAt = input?.redo?.lastArchivedAt ? new Date(input.redo.lastArchivedAt) : null;
    const sessionAt = end?.last_any ?? null;
    const newest = archivedAt && (!sessionAt || archivedAt > sessionAt) ? { at: archivedAt, from: "redo archive" as const } : sessionAt ? { at: sessionAt, from: "session" as const } : null;
    const next = backups
      .flatMap((e) => nextRuns(e.pattern, e.tz, 1, now).map((r) => ({ at: r.at, what: `${ENTRY_NAMES[e.type].replace(/^the /, "")} at ${r.local} ${e.tz}` })))
      .sort((a, b) => a.at.localeCompare(b.at))[0];
    risks.set(server.name, {
      newestRecoverable: newest && { at: newest.at.toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - newest.at.getTime()) / 1000)), from: newest.from },
      nextBackup: next ?? null,
      rpo,
      lastDrill: drill ? { label: drill.label, status: drill.status, endedAt: drill.ended_at.toISOString(), rtoSecondsPerMib: drill.rto_seconds_per_mib, summary: drill.summary ?? "" } : null,
      flags,
    });
  }
  return risks;
}

function rpoOf(rpo: ServerRpo | null): ServerRisk["rpo"] {
  const best = rpo && rpo.redoShipSeconds > 0 ? bestTarget(rpo) : null;
  return best && { seconds: best.target.rpoSeconds, target: best.target.name, offMachine: best.offMachine };
}

/** One server's risks, its inputs gathered here (the report mails): the redo state and the target's free space. */
export async function riskOf(server: ServerSummary): Promise<ServerRisk> {
  const redo = await openMailstore(server.name).then(redoStatus, () => null);
  const { minFreeBytes, minFreePercent } = server.settings;
  const below = isObjectStore(server.backupTarget)
    ? false
    : await measureFreeSpace(server.backupTarget).then((f) => f.freeBytes < minFreeBytes || f.freePercent < minFreePercent, () => false);
  const rpo = await redoRpo(server.name).catch(() => null);
  return (await serverRisks([server], new Map([[server.name, { redo, belowMinimumSpace: below, rpo }]]))).get(server.name)!;
}
