import { readMessage } from "@/server/explore/read-message.ts";
import { itemIdOf, sourceOr202 } from "../../../../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../../../../_lib/guard.ts";

/** One message as the session holds it (MessageDetail): the same answer as /api/accounts/:id/messages/:itemId?label=<label>. */
export async function GET(request: Request, { params }: { params: Promise<{ label: string; id: string; itemId: string }> }) {
  const { label, id, itemId } = await params;
  return handle(request, { permission: "items.read", audit: "items.read", target: await emailsOf([id]), params: { label, itemIds: [itemId] } }, async () => {
    const source = await sourceOr202(id, { label });
    return source instanceof Response ? source : readMessage(source, itemIdOf(itemId));
  });
}
