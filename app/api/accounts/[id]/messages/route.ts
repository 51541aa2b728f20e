import { listMessages } from "@/server/mailstore/list-messages.ts";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

/** The mailbox's folders and a page of its messages (MessageList): `?folder=<id or /path>&q=&page=&pageSize=`. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, () => listMessages(id, queryOf(request)));
}
