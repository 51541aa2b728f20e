import { getServer } from "@/server/directory/list-servers.ts";
import { pingWorker } from "@/server/jobs/ping-worker.ts";
import { handle } from "../../../_lib/guard.ts";

export async function POST(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "server.ping", audit: "server.ping", target: name }, async () => pingWorker((await getServer(name)).name));
}
