import { requestSessionDelete } from "@/server/backup/delete-session.ts";
import { getSession } from "@/server/backup/query-sessions.ts";
import { handle } from "../../_lib/guard.ts";
import { queryOf } from "../../_lib/respond.ts";

export async function GET(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const { server, q } = queryOf(request);
  return handle(request, { permission: "read" }, () => getSession(server || undefined, label, q));
}

/** Deletes one session on its server's worker (DeleteSessionResult); 409 `session_needed`, `session_in_use` or `backup_in_progress` when it may not go. */
export async function DELETE(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const { server } = queryOf(request);
  return handle(request, { permission: "backup.delete", audit: "backup.delete", target: label, params: { server, label } }, () =>
    requestSessionDelete({ server: server || undefined, label }),
  );
}
