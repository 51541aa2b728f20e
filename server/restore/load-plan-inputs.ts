/** Gathers what the restore planner needs from the directory, the catalog and the redo archive. */
import { targetHolding } from "../backup/server-targets.ts";
import { consolePool } from "../db/console-db.ts";
import { accountsByAnyNames } from "../directory/resolve-account.ts";
import { getServer } from "../directory/list-servers.ts";
import { MailvaultError } from "../errors.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { redoCoverage } from "../redo/redo-coverage.ts";
import { findMailboxCreations } from "./find-creations.ts";
import type { PlanAccountCandidate, PlanInputs, PlanSession } from "./plan-restore.ts";

export async function loadPlanInputs(
  serverName: string,
  requested: string[] | "all",
  options: { restoreToTime?: Date } = {},
): Promise<{ inputs: PlanInputs; names: string[] }> {
  const server = await getServer(serverName);
  const pool = consolePool();
  const names =
    requested === "all"
      ? (await pool.query<{ email: string }>("SELECT a.email FROM account a JOIN server s ON s.id = a.server_id WHERE s.name = $1 AND a.deleted_at IS NULL ORDER BY a.email", [server.name])).rows.map((r) => r.email)
      : [...new Set(requested.map((n) => n.trim().toLowerCase()))];

  const candidates = new Map<string, PlanAccountCandidate[]>();
  const byName = await accountsByAnyNames(names);
  for (const name of names) {
    const found = byName.get(name) ?? [];
    const here = found.filter((a) => a.server === server.name);
    if (found.length && !here.length) throw new MailvaultError("invalid", "wrong_server", `${name} lives on ${found[0]!.server}, not ${server.name}`);
    candidates.set(
      name,
      here.map((a) => ({ accountId: a.id, server: a.server, currentEmail: a.email, createdAt: a.createdAt, deletedAt: a.deletedAt, name: a.name })),
    );
  }

  // Only the fulls of the accounts asked for matter to their plans (all of them for "all").
  const sessions = await loadCompletedSessions(server.name, requested === "all" ? {} : { accountIds: [...candidates.values()].flat().map((c) => c.accountId) });
  const store = await openMailstore(server.name);
  const { archive, currentLog } = await redoCoverage(store);

  // Accounts with no full backup at or before the point can only be rebuilt from redo alone.
  const point = options.restoreToTime?.getTime() ?? Infinity;
  const hasFull = (accountId: string) =>
    sessions.some((s) => {
      const full = s.fulls.get(accountId);
      return full !== undefined && full.snapshotAt.getTime() <= point;
    });
  const withoutFull = [...candidates.values()].flat().filter((c) => !hasFull(c.accountId));
  const withRedo = sessions.filter((s) => s.redoFromSeq !== null).map((s) => s.label);
  const creations = await findMailboxCreations({
    store,
    target: await targetHolding(server, withoutFull.length ? withRedo : []),
    sessions: withRedo,
    accounts: withoutFull,
  });
  const { rows: live } = await pool.query<{ email: string }>("SELECT email FROM account WHERE deleted_at IS NULL");
  return {
    names,
    inputs: {
      now: new Date(),
      candidates,
      sessions,
      archive: { segments: archive.segments.map((s) => ({ firstSeq: s.firstSeq, lastSeq: s.lastSeq })), lastArchivedSeq: archive.lastArchivedSeq },
      currentLog: currentLog && { firstSeq: currentLog.firstSeq, lastSeq: currentLog.lastSeq },
      liveEmails: new Set(live.map((r) => r.email)),
      creations,
    },
  };
}

/**
 * The server's completed sessions with redo, oldest first, each with the full snapshots it holds
 * (only of `accountIds` when given: one account's restore points need not read every account's).
 */
export async function loadCompletedSessions(serverName: string, options: { accountIds?: string[] } = {}): Promise<PlanSession[]> {
  const pool = consolePool();
  const { rows } = await pool.query<{
    label: string; type: "full" | "incremental"; created_at: Date; started_at: Date | null; redo_from_seq: string | null; redo_through_seq: string | null;
    account_id: string | null; email: string | null; change_number: string | null; redo_seq: string | null; snapshot_at: Date | null; items: number | null;
    verified_at: Date | null; verify_ok: boolean | null; verify_problems: { path: string; message: string }[]; exclude_blobs: boolean;
  }>(
    `SELECT s.label, s.type, s.created_at, s.started_at, s.redo_from_seq, s.redo_through_seq, s.verified_at, s.verify_ok, s.verify_problems, s.exclude_blobs,
            a.account_id, a.email, a.change_number, a.redo_seq, a.snapshot_at, a.items
       FROM backup_session s JOIN server v ON v.id = s.server_id
       LEFT JOIN session_account a ON a.session_id = s.id AND a.kind = 'full' AND ($2::uuid[] IS NULL OR a.account_id = ANY($2::uuid[]))
      WHERE v.name = $1 AND s.status = 'completed' AND s.redo_through_seq IS NOT NULL
      ORDER BY s.created_at`,
    [serverName, options.accountIds ?? null],
  );
  const sessions = new Map<string, PlanSession>();
  for (const r of rows) {
    let s = sessions.get(r.label);
    if (!s) {
      s = {
        label: r.label,
        type: r.type,
        createdAt: r.created_at,
        startedAt: r.started_at ?? r.created_at,
        redoFromSeq: r.redo_from_seq === null ? null : Number(r.redo_from_seq),
        redoThroughSeq: Number(r.redo_through_seq),
        fulls: new Map(),
        ...(r.exclude_blobs ? { excludeBlobs: true } : {}),
        ...(r.verify_ok === false && r.verified_at
          ? { damaged: { at: r.verified_at, first: r.verify_problems[0] ? `${r.verify_problems[0].path}: ${r.verify_problems[0].message}` : "damaged" } }
          : {}),
      };
      sessions.set(r.label, s);
    }
    if (r.account_id && r.snapshot_at) {
      s.fulls.set(r.account_id, { email: r.email!, changeNumber: Number(r.change_number), lastRedoSeq: Number(r.redo_seq), snapshotAt: r.snapshot_at, items: r.items ?? 0 });
    }
  }
  return [...sessions.values()];
}
