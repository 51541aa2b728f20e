import { messageAttachment } from "@/server/explore/read-message.ts";
import { readySource } from "@/server/explore/views.ts";
import { InvalidInputError } from "@/server/errors.ts";
import { attachment, itemIdOf, pointOf } from "../../../../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../../../../_lib/guard.ts";

/** One attachment of a message (the n-th, from 0), always as a download: never shown inline (audited: items.download). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; itemId: string; n: string }> }) {
  const { id, itemId, n } = await params;
  const point = pointOf(request);
  return handle(request, { permission: "items.download", audit: "items.download", target: await emailsOf([id]), params: { ...point, itemIds: [itemId], attachment: n } }, async () => {
    if (!/^\d{1,4}$/.test(n)) throw new InvalidInputError(`attachments are numbered from 0, not ${n.slice(0, 20)}`);
    const found = await messageAttachment(await readySource(id, point), itemIdOf(itemId), Number(n));
    return new Response(new Uint8Array(found.content), {
      headers: { "content-type": "application/octet-stream", "content-disposition": attachment(found.filename), "x-content-type-options": "nosniff", "cache-control": "private, no-store" },
    });
  });
}
