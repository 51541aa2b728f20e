import { getServer } from "@/server/directory/list-servers.ts";
import { handle } from "../../_lib/guard.ts";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => getServer(name));
}
