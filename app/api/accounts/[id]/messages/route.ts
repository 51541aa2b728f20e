import { exploreMessages } from "@/server/explore/list-messages.ts";
import { NextResponse } from "next/server";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

/**
 * The mailbox's folders and a page of its messages (MessageList): `?folder=<id or /path>&q=&subject=&from=&to=&after=&before=&page=&pageSize=`,
 * live, or from a backup with `label=<session>` or `at=<time>` (202 `{ state: "preparing" }` while a worker reads it).
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handle(request, { permission: "read" }, async () => {
    const list = await exploreMessages(id, queryOf(request));
    return "state" in list ? NextResponse.json(list, { status: 202, headers: { "retry-after": "1" } }) : list;
  });
}
