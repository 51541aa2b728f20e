import { getServer } from "@/server/directory/list-servers.ts";
import { respond } from "../../_lib/respond.ts";

export async function GET(_request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return respond(() => getServer(name));
}
