import { dashboardFacts } from "@/server/health/dashboard-facts.ts";
import { handle } from "../_lib/guard.ts";

/** Per server: backup target free space, redo archive lag and queue job counts, each with its own error (DashboardFacts). */
export async function GET(request: Request) {
  return handle(request, { permission: "read" }, () => dashboardFacts());
}
