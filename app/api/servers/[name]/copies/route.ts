import { copyRequest, submitCopy } from "@/server/backup/copy-sessions.ts";
import { handle } from "../../../_lib/guard.ts";

/** Copies sessions to a copy target: `{ to, label }` or `{ to, all: true }`; answers with the job to follow. */
export async function POST(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "backup.copy", audit: "backup.copy", target: name, params: body, schema: copyRequest, status: 202 }, () => submitCopy(name, body));
}
