import { listServerJobs } from "@/server/jobs/list-jobs.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

/** Recent jobs (JobSummary[]): `?state=&limit=&server=&name=` (name: `backup.start`, or `backup` for every backup job). */
export async function GET(request: Request) {
  return handle(request, { permission: "read" }, async () => ({ jobs: await listServerJobs(queryOf(request)) }));
}
