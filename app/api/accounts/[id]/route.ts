import { accountOverview } from "@/server/directory/account-overview.ts";
import { handle } from "../../_lib/guard.ts";

/** An account with its names, mailbox summary and, for a prefixed copy, where it came from (AccountOverview). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, () => accountOverview(id));
}
