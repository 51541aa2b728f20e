import { restoreItems, restoreItemsInput } from "@/server/explore/restore-items.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../_lib/guard.ts";

/**
 * Restores chosen messages or folders of a backup into the live account: `{ label | at, itemIds?,
 * folders?, into: "recovered" | "original", folder?, onConflict? }`. Answers the result, or
 * 202 `{ state: "running", jobId }` when it takes longer than a minute (audited: items.restore).
 */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const sent: unknown = await request.json().catch(() => ({}));
  const body = { ...(typeof sent === "object" && sent !== null && !Array.isArray(sent) ? sent : {}), accountId: id };
  return handle(
    request,
    { permission: "items.restore", audit: "items.restore", target: await emailsOf([id]), params: body, schema: restoreItemsInput, summary: (r) => ("copied" in r ? `${r.copied} restored into ${r.into}` : `running as job ${r.jobId}`) },
    () => restoreItems(body),
  );
}
