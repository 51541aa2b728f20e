import { getServer } from "@/server/directory/list-servers.ts";
import { reportToRequest, setReportRecipients } from "@/server/directory/update-settings.ts";
import { handle } from "../../_lib/guard.ts";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => getServer(name));
}

/** Changes the server's report recipients: `{ reportTo: [emails] }`, empty for MAILVAULT_REPORT_TO (admins only). */
export async function PATCH(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "server.settings", audit: "server.settings", target: name, params: body, schema: reportToRequest }, async () => ({
    reportTo: await setReportRecipients(name, body),
  }));
}
