import { getRestoreRun } from "@/server/restore/get-restore-run.ts";
import { handle } from "../../_lib/guard.ts";

/** One restore run with its plan, progress and outcome (RestoreRunDetail); 404 `restore_not_found`. */
export async function GET(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  return handle(request, { permission: "read" }, () => getRestoreRun(label));
}
