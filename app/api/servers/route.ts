import { listServers } from "@/server/directory/list-servers.ts";
import { respond } from "../_lib/respond.ts";

export async function GET() {
  return respond(async () => ({ servers: await listServers() }));
}
