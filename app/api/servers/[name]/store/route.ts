import { getServer } from "@/server/directory/list-servers.ts";
import { ServiceUnavailableError } from "@/server/errors.ts";
import { openMailstore } from "@/server/mailstore/mailstore.ts";
import { storeStatus } from "@/server/mailstore/store-status.ts";
import { handle } from "../../../_lib/guard.ts";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return handle(request, { permission: "read" }, async () => {
    const server = await getServer(name);
    const store = await openMailstore(server.name).catch((error: Error) => {
      throw new ServiceUnavailableError("mailstore", `${server.mailstoreDatabase}: ${error.message}`);
    });
    return storeStatus(store);
  });
}
