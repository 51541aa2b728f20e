import { listSchedules } from "@/server/schedule/manage-schedule.ts";
import { handle } from "../_lib/guard.ts";

/** Every server's backup schedule, with each entry's next runs and the redo-archive cadence. */
export async function GET(request: Request) {
  return handle(request, { permission: "read" }, () => listSchedules());
}
