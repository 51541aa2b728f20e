import { prisma } from "@/server/db/console-db.ts";
import { submitRestore } from "@/server/restore/submit-restore.ts";
import { queryOf, respond } from "../_lib/respond.ts";

/** Plans a restore (`dryRun: true` returns the plan only) or starts it (202). */
export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  return respond(async () => submitRestore({ ...body, requestedBy: "console" }), body?.dryRun ? 200 : 202);
}

export async function GET(request: Request) {
  const { server } = queryOf(request);
  return respond(async () => ({
    restores: await prisma().restoreRun.findMany({ where: server ? { server } : {}, orderBy: { createdAt: "desc" }, take: 100 }),
  }));
}
