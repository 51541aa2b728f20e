import { expectedRecovery } from "@/server/restore/expected-recovery.ts";
import { handle } from "../../../_lib/guard.ts";

/** The expected recovery time of the server, from the last restore run that measured it (ExpectedRecovery). */
export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, () => expectedRecovery(name));
}
