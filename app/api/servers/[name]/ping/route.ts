import { getServer } from "@/server/directory/list-servers.ts";
import { pingWorker } from "@/server/jobs/ping-worker.ts";
import { respond } from "../../../_lib/respond.ts";

export async function POST(_request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return respond(async () => pingWorker((await getServer(name)).name));
}
