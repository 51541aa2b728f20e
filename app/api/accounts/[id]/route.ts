import { accountOverview } from "@/server/directory/account-overview.ts";
import { removeCopy } from "@/server/restore/remove-copy.ts";
import { handle } from "../../_lib/guard.ts";

/** An account with its names, mailbox summary and, for a prefixed copy, where it came from (AccountOverview). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, () => accountOverview(id));
}

/**
 * Removes a prefixed copy made by a restore (`{ confirm: "<the copy's email>" }`); helpdesk staff
 * only the copies they made (server/restore/remove-copy.ts). Audited either way.
 */
export async function DELETE(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const body = await request.json().catch(() => ({}));
  const confirm = typeof body?.confirm === "string" ? body.confirm.slice(0, 320) : undefined;
  return handle(
    request,
    { permission: "restore.copy", audit: "account.remove-copy", target: id, params: { confirm }, summary: (r: Awaited<ReturnType<typeof removeCopy>>) => `${r.removed} (made by ${r.restoreRun})` },
    (user) => removeCopy(id, { confirm }, user),
  );
}
