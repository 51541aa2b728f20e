import { readMessage } from "@/server/explore/read-message.ts";
import { itemIdOf, pointOf, sourceOr202 } from "../../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../../_lib/guard.ts";

/** One message (MessageDetail): headers, text, whether it has HTML, attachments; live, or `?label=` / `?at=` for a backup. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  return handle(request, { permission: "items.read", audit: "items.read", target: await emailsOf([id]), params: { ...pointOf(request), itemIds: [itemId] } }, async () => {
    const source = await sourceOr202(id, pointOf(request));
    return source instanceof Response ? source : readMessage(source, itemIdOf(itemId));
  });
}
