import { listServers } from "@/server/directory/list-servers.ts";
import { handle } from "../_lib/guard.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "read" }, async () => ({ servers: await listServers() }));
}
