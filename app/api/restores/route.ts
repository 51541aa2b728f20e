import { restoreNeeds } from "@/server/auth/permissions.ts";
import { listRestoreRuns } from "@/server/restore/get-restore-run.ts";
import { restoreInput, submitRestore } from "@/server/restore/submit-restore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

/**
 * Plans a restore (`dryRun: true`: the plan only, nothing changes) or starts it (202). Helpdesk
 * staff may only restore one account into a prefixed copy; anything else answers 403.
 */
export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  const dryRun = body?.dryRun === true;
  return handle(
    request,
    {
      permission: dryRun ? "restore.plan" : restoreNeeds(body ?? {}),
      audit: dryRun ? undefined : "restore.start",
      // The console names accounts by id: the audit entry names them by email.
      target: Array.isArray(body?.accounts) ? await emailsOf(body.accounts) : String(body?.accounts ?? body?.group ?? ""),
      params: body,
      schema: restoreInput.omit({ requestedBy: true }),
      status: dryRun ? 200 : 202,
      summary: (r: Awaited<ReturnType<typeof submitRestore>>) => (r.dryRun ? "" : `${r.label}: ${r.plan.accounts.map((a) => `${a.emailAtPoint} -> ${a.target.email}`).join(", ")}`),
    },
    (user) => submitRestore({ ...body, requestedBy: user.email }),
  );
}

/** Restore runs, newest first (RestoreRunDetail[]): `?server=&status=&limit=`. */
export async function GET(request: Request) {
  return handle(request, { permission: "read" }, async () => ({ restores: await listRestoreRuns(queryOf(request)) }));
}
