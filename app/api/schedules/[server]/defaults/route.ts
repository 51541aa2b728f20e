import { z } from "zod";
import { applyDefaultSchedule } from "@/server/schedule/manage-schedule.ts";
import { handle } from "../../../_lib/guard.ts";

const input = z.object({ tz: z.string().optional() }, "send {} or { tz }");

/** Zimbra's default schedule for the server's backup mode (zmschedulebackup -D), in `tz` (default UTC). */
export async function POST(request: Request, { params }: { params: Promise<{ server: string }> }) {
  const { server } = await params;
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "schedules.manage", audit: "schedules.update", target: server, params: { defaults: true, ...(input.safeParse(body ?? {}).data ?? {}) } }, (user) =>
    applyDefaultSchedule({ ...input.parse(body ?? {}), server, by: user.email }),
  );
}
