import { copyBack, copyBackInput } from "@/server/restore/copy-back.ts";
import { handle } from "../_lib/guard.ts";

/** `{ server, from, to, folders?: ["/Inbox/x"], itemIds?: [..], onConflict?: "skip" | "replace" }` (admins) */
export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "copyback", audit: "copyback", target: `${body?.from} -> ${body?.to}`, params: body, schema: copyBackInput }, () => copyBack(body));
}
