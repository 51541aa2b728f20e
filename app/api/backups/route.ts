import { backupRequest, submitBackup } from "@/server/backup/submit-backup.ts";
import { handle } from "../_lib/guard.ts";

/** Starts a backup session: `{ server, type: "full" | "incremental", accounts?: "all" | string[] }`. */
export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "backup.run", audit: "backup.start", target: body?.server, params: body, schema: backupRequest.omit({ requestedBy: true }), status: 202, summary: (r: { label: string }) => r.label }, (user) =>
    submitBackup({ ...body, requestedBy: user.email }),
  );
}
