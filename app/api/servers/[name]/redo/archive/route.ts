import { getServer } from "@/server/directory/list-servers.ts";
import { runJob } from "@/server/jobs/run-job.ts";
import { handle } from "../../../../_lib/guard.ts";

/** Archive now: the server's worker seals the committed redo log whatever its size and age. */
export async function POST(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "redo.archive", audit: "redo.archive", target: name }, async () => {
    const server = await getServer(name);
    return runJob(server.name, "redo.archive", { force: true }, 120_000);
  });
}
