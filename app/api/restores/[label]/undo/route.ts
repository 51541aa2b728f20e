import { undoRestore } from "@/server/restore/undo-restore.ts";
import { handle } from "../../../_lib/guard.ts";

/**
 * Undo of an in-place restore: `{ dryRun: true }` answers the plan (each mailbox back to just
 * before the restore reloaded it); without it the undo is queued as a restore run (202). Admins only.
 */
export async function POST(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const body = await request.json().catch(() => ({}));
  const dryRun = body?.dryRun === true;
  return handle(
    request,
    {
      permission: "restore.any",
      audit: dryRun ? undefined : "restore.undo",
      target: label,
      params: { label },
      status: dryRun ? 200 : 202,
      summary: (r: Awaited<ReturnType<typeof undoRestore>>) => (r.dryRun ? "" : `${r.label} undoes ${label}: ${r.plan.accounts.map((a) => a.target.email).join(", ")}`),
    },
    (user) => undoRestore({ label, dryRun, requestedBy: user.email }),
  );
}
