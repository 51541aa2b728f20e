import { Readable } from "node:stream";
import { downloadInput, mboxStream, selectForDownload, zipStream } from "@/server/explore/download.ts";
import { readySource } from "@/server/explore/views.ts";
import { attachment, pointOf } from "../../../_lib/explore.ts";
import { emailsOf } from "@/server/directory/resolve-account.ts";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

/**
 * A folder, a selection or the whole mailbox as `.mbox` or `.zip` of `.eml`, streamed:
 * `?format=mbox|zip&folder=/Inbox&ids=1,2` with `label=` or `at=` for a backup (audited: items.download).
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { label, at, ...query } = queryOf(request);
  return handle(request, { permission: "items.download", audit: "items.download", target: await emailsOf([id]), params: { label, at, ...query } }, async () => {
    const input = downloadInput.parse(query);
    const source = await readySource(id, pointOf(request));
    const selection = await selectForDownload(source, input);
    const stream = input.format === "mbox" ? mboxStream(source, selection) : zipStream(source, selection);
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        "content-type": input.format === "mbox" ? "application/mbox" : "application/zip",
        "content-disposition": attachment(selection.name),
        "x-message-count": String(selection.rows.length),
        "cache-control": "private, no-store",
      },
    });
  });
}
