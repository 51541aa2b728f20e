import { restorePoints } from "@/server/restore/restore-points.ts";
import { handle } from "../../../_lib/guard.ts";

/** The account's full snapshots, redo coverage, gaps and recoverable window (RestorePoints); `?at=` checks one moment. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, () => restorePoints(id, { at: new URL(request.url).searchParams.get("at") }));
}
