import { queryRedo } from "@/server/redo/query-redo.ts";
import { queryOf, respond } from "../../../_lib/respond.ts";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return respond(() => queryRedo(name, queryOf(request)));
}
