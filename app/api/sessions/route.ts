import { querySessions } from "@/server/backup/query-sessions.ts";
import { queryOf, respond } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return respond(() => querySessions(queryOf(request)));
}
