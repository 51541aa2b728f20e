import { NextResponse } from "next/server";
import { itemRestoreNeeds } from "@/server/auth/permissions.ts";
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
  const body: Record<string, unknown> = { ...(typeof sent === "object" && sent !== null && !Array.isArray(sent) ? sent : {}), accountId: id };
  return handle(
    request,
    { permission: itemRestoreNeeds(body), audit: "items.restore", target: await emailsOf([id]), params: body, schema: restoreItemsInput, summary: (r) => ("copied" in r ? `${r.copied} restored into ${r.into}` : "still running (202)") },
    async () => {
      const result = await restoreItems(body as Parameters<typeof restoreItems>[0]);
      return "state" in result ? NextResponse.json(result, { status: 202 }) : result;
    },
  );
}
