/**
 * What puts a server's mail at risk, as the dashboard, the report mails and the metrics show it:
 * the newest point a restore can reach (the newest completed session's end, or the last archive
 * of the redo, whichever is later) and its age, the next scheduled backup, and red flags: no
 * schedule at all, no completed full within the server's cycle (`fullCycleDays`, 7 by default),
 * a redo archive lag over twice its age limit, a backup target below its free-space minimum.
 */
import { consolePool } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { isObjectStore, measureFreeSpace } from "../backup/free-space.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { redoStatus, type StoreStatus } from "../mailstore/store-status.ts";
import { nextRuns } from "../schedule/cron.ts";
import { storedSchedules } from "../schedule/manage-schedule.ts";
import { ENTRY_NAMES } from "../schedule/schedule-entry.ts";

export type RiskCode = "no_schedule" | "no_recent_full" | "redo_lag" | "below_min_space";

export interface ServerRisk {
  newestRecoverable: { at: string; ageSeconds: number; from: "session" | "redo archive" } | null;
  nextBackup: { at: string; what: string } | null;
  flags: { code: RiskCode; message: string }[];
}

export interface RiskInputs {
  redo: StoreStatus["redo"] | null;
  belowMinimumSpace: boolean;
}

function days(seconds: number): string {
  return seconds < 2 * 86_400 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} days`;
}

export async function serverRisks(servers: ServerSummary[], inputs: Map<string, RiskInputs>, now = new Date()): Promise<Map<string, ServerRisk>> {
  const names = servers.map((s) => s.name);
  const [schedules, { rows: ends }] = await Promise.all([
    storedSchedules(names),
    consolePool().query<{ server: string; last_any: Date | null; last_full: Date | null }>(
      `SELECT v.name AS server,
              (SELECT max(ended_at) FROM backup_session b WHERE b.server_id = v.id AND b.status = 'completed') AS last_any,
              (SELECT max(ended_at) FROM backup_session b WHERE b.server_id = v.id AND b.status = 'completed' AND b.type = 'full') AS last_full
         FROM server v WHERE v.name = ANY($1::text[])`,
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

    const archivedAt = input?.redo?.lastArchivedAt ? new Date(input.redo.lastArchivedAt) : null;
    const sessionAt = end?.last_any ?? null;
    const newest = archivedAt && (!sessionAt || archivedAt > sessionAt) ? { at: archivedAt, from: "redo archive" as const } : sessionAt ? { at: sessionAt, from: "session" as const } : null;
    const next = backups
      .flatMap((e) => nextRuns(e.pattern, e.tz, 1, now).map((r) => ({ at: r.at, what: `${ENTRY_NAMES[e.type].replace(/^the /, "")} at ${r.local} ${e.tz}` })))
      .sort((a, b) => a.at.localeCompare(b.at))[0];
    risks.set(server.name, {
      newestRecoverable: newest && { at: newest.at.toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - newest.at.getTime()) / 1000)), from: newest.from },
      nextBackup: next ?? null,
      flags,
    });
  }
  return risks;
}

/** One server's risks, its inputs gathered here (the report mails): the redo state and the target's free space. */
export async function riskOf(server: ServerSummary): Promise<ServerRisk> {
  const redo = await openMailstore(server.name).then(redoStatus, () => null);
  const { minFreeBytes, minFreePercent } = server.settings;
  const below = isObjectStore(server.backupTarget)
    ? false
    : await measureFreeSpace(server.backupTarget).then((f) => f.freeBytes < minFreeBytes || f.freePercent < minFreePercent, () => false);
  return (await serverRisks([server], new Map([[server.name, { redo, belowMinimumSpace: below }]]))).get(server.name)!;
}
