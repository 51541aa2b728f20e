import { describeTargets } from "@/server/backup/server-targets.ts";
import { getServer } from "@/server/directory/list-servers.ts";
import { handle } from "../../../_lib/guard.ts";

/** The server's backup targets: its own and its copy targets, each with kind, encryption, usage and last copy. */
export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, async () => ({ targets: await describeTargets(await getServer(name)) }));
}
