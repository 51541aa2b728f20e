import { reportSettings } from "@/server/reports/send-report.ts";
import { handle } from "../../../_lib/guard.ts";

/** Who gets the server's report mails, whether mail is on, and the newest report. */
export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => reportSettings(name));
}
