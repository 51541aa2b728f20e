import { clearSchedule, getSchedule, replaceSchedule } from "@/server/schedule/manage-schedule.ts";
import { scheduleInput } from "@/server/schedule/schedule-entry.ts";
import { handle } from "../../_lib/guard.ts";

type Params = { params: Promise<{ server: string }> };

export async function GET(request: Request, { params }: Params) {
  const { server } = await params;
  return handle(request, { permission: "read" }, () => getSchedule(server));
}

/** Replaces the schedule (zmschedulebackup -R): `{ entries: [{ type: "f"|"i"|"a"|"d", pattern, tz?, age? }], tz? }`. */
export async function PUT(request: Request, { params }: Params) {
  const { server } = await params;
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "schedules.manage", audit: "schedules.update", target: server, params: body, schema: scheduleInput }, (user) =>
    replaceSchedule({ ...scheduleInput.parse(body), server, by: user.email }),
  );
}

/** Removes every entry: the server has no scheduled backups. */
export async function DELETE(request: Request, { params }: Params) {
  const { server } = await params;
  const body = { clear: true };
  return handle(request, { permission: "schedules.manage", audit: "schedules.update", target: server, params: body }, (user) =>
    clearSchedule({ server, by: user.email }),
  );
}
