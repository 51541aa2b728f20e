import { getDrill } from "@/server/drill/submit-drill.ts";
import { handle } from "../../_lib/guard.ts";

/** One restore drill with its evidence (DrillView); 404 `drill_not_found`. */
export async function GET(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  return handle(request, { permission: "read" }, () => getDrill(label));
}
