import { exploreMessages } from "@/server/explore/list-messages.ts";
import { NextResponse } from "next/server";
import { handle } from "../../../../../_lib/guard.ts";
import { queryOf } from "../../../../../_lib/respond.ts";

/** An account's messages as the session holds them: the same answer as /api/accounts/:id/messages?label=<label>. */
export async function GET(request: Request, { params }: { params: Promise<{ label: string; id: string }> }) {
  const { label, id } = await params;
  return handle(request, { permission: "read" }, async () => {
    const list = await exploreMessages(id, { ...queryOf(request), label });
    return "state" in list ? NextResponse.json(list, { status: 202, headers: { "retry-after": "1" } }) : list;
  });
}
