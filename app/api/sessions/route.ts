import { querySessions } from "@/server/backup/query-sessions.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "read" }, () => querySessions(queryOf(request)));
}
