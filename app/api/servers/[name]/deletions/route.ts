import { deletionTimeline } from "@/server/redo/deletion-timeline.ts";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

/** Deleted and trashed items, newest first (DeletionTimeline): `?account=&from=&to=&beforeSeq=&limit=`. */
export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => deletionTimeline(name, queryOf(request)));
}
