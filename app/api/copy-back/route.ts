import { copyBack } from "@/server/restore/copy-back.ts";
import { respond } from "../_lib/respond.ts";

/** `{ server, from, to, folders?: ["/Inbox/x"], itemIds?: [..], onConflict?: "skip" | "replace" }` */
export async function POST(request: Request) {
  return respond(async () => copyBack(await request.json().catch(() => ({}))));
}
