import { emlName, messageBytes, messageRow } from "@/server/explore/read-message.ts";
import { readySource } from "@/server/explore/views.ts";
import { attachment, itemIdOf, pointOf } from "../../../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../../../_lib/guard.ts";

/** The message as sent, as a `.eml` file (audited: items.download). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  const point = pointOf(request);
  return handle(request, { permission: "items.download", audit: "items.download", target: await emailsOf([id]), params: { ...point, itemIds: [itemId], format: "eml" } }, async () => {
    const source = await readySource(id, point);
    const { row } = await messageRow(source, itemIdOf(itemId));
    const bytes = await messageBytes(source, row);
    return new Response(new Uint8Array(bytes), { headers: { "content-type": "message/rfc822", "content-disposition": attachment(emlName(row)), "cache-control": "private, no-store" } });
  });
}
