import { listServerNames } from "@/server/directory/list-servers.ts";
import { listJobs, listJobsInput } from "@/server/jobs/list-jobs.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "read" }, async () => {
    const input = listJobsInput.parse(queryOf(request));
    return { jobs: await listJobs(await listServerNames(), input) };
  });
}
