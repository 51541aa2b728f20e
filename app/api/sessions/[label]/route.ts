import { getSession } from "@/server/backup/query-sessions.ts";
import { handle } from "../../_lib/guard.ts";
import { queryOf } from "../../_lib/respond.ts";

export async function GET(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const { server, q } = queryOf(request);
  return handle(request, { permission: "read" }, () => getSession(server || undefined, label, q));
}
