import { getServer } from "@/server/directory/list-servers.ts";
import { runJob } from "@/server/jobs/run-job.ts";
import { respond } from "../../../../_lib/respond.ts";

/** Archive now: the server's worker seals the committed redo log whatever its size and age. */
export async function POST(_request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return respond(async () => {
    const server = await getServer(name);
    return runJob(server.name, "redo.archive", { force: true }, 120_000);
  });
}
