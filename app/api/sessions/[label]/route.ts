import { getSession } from "@/server/backup/query-sessions.ts";
import { queryOf, respond } from "../../_lib/respond.ts";

export async function GET(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const { server, q } = queryOf(request);
  return respond(() => getSession(server || undefined, label, q));
}
