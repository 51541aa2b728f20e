import { MESSAGE_HTML_CSP, messageHtml } from "@/server/explore/read-message.ts";
import { itemIdOf, pointOf, sourceOr202 } from "../../../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../../../_lib/guard.ts";

/**
 * The message's HTML, sanitised (server/explore/read-message.ts) and served with a CSP that lets
 * nothing run or load: the console shows it in a sandboxed frame.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  return handle(request, { permission: "items.read", audit: "items.read", target: await emailsOf([id]), params: { ...pointOf(request), itemIds: [itemId] } }, async () => {
    const source = await sourceOr202(id, pointOf(request));
    if (source instanceof Response) return source;
    return new Response(await messageHtml(source, itemIdOf(itemId)), {
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": MESSAGE_HTML_CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "private, no-store" },
    });
  });
}
