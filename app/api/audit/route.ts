import { queryAudit } from "@/server/audit/audit.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "audit.read" }, () => queryAudit(queryOf(request)));
}
