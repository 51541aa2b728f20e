import { submitBackup } from "@/server/backup/submit-backup.ts";
import { respond } from "../_lib/respond.ts";

/** Starts a backup session: `{ server, type: "full" | "incremental", accounts?: "all" | string[] }`. */
export async function POST(request: Request) {
  return respond(async () => submitBackup({ ...(await request.json().catch(() => ({}))), requestedBy: "console" }), 202);
}
