/**
 * Where a prefixed copy came from: the restore run that made it, and the account it copies. The
 * account page says so, and copy-back knows where to copy into.
 */
import { consolePool } from "../db/console-db.ts";
import type { RestorePlan } from "./plan-restore.ts";

export interface CopyOrigin {
  restoreRun: string;
  restoredAt: string;
  /** The account copied, under its current name, and the name it had at the restore point. */
  originalAccountId: string;
  originalEmail: string;
  emailAtPoint: string;
  point: RestorePlan["point"];
  snapshotSession: string | null;
  /** Who asked for the restore that made it. */
  requestedBy: string;
}

export async function copyOrigin(email: string): Promise<CopyOrigin | null> {
  const { rows } = await consolePool().query<{ label: string; ended_at: Date | null; created_at: Date; requested_by: string; plan: { plan?: RestorePlan } }>(
    `SELECT label, ended_at, created_at, requested_by, plan FROM restore_run
      WHERE result->'restored' @> jsonb_build_array(jsonb_build_object('target', $1::text))
      ORDER BY created_at DESC LIMIT 1`,
    [email.toLowerCase()],
  );
  const run = rows[0];
  const account = run?.plan.plan?.accounts.find((a) => a.target.mode === "copy" && a.target.email === email.toLowerCase());
  if (!run || !account) return null;
  return {
    restoreRun: run.label,
    restoredAt: (run.ended_at ?? run.created_at).toISOString(),
    originalAccountId: account.accountId,
    originalEmail: account.currentEmail,
    emailAtPoint: account.emailAtPoint,
    point: run.plan.plan!.point,
    snapshotSession: account.snapshot?.session ?? null,
    requestedBy: run.requested_by,
  };
}

