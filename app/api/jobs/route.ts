import { listServerNames } from "@/server/directory/list-servers.ts";
import { listJobs, listJobsInput } from "@/server/jobs/list-jobs.ts";
import { queryOf, respond } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return respond(async () => {
    const input = listJobsInput.parse(queryOf(request));
    const servers = await listServerNames();
    return { jobs: await listJobs(servers, input) };
  });
}
