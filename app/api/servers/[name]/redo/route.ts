import { queryRedo } from "@/server/redo/query-redo.ts";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => queryRedo(name, queryOf(request)));
}
