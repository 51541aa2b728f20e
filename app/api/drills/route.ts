import { drillInput, listDrills, submitDrill } from "@/server/drill/submit-drill.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

/** Restore drills, newest first (DrillView[]): `?server=&limit=`. */
export async function GET(request: Request) {
  return handle(request, { permission: "read" }, async () => ({ drills: await listDrills(queryOf(request)) }));
}

/** Starts a restore drill (202): `{ server, accounts?: N | [names], at?: "random" | "latest" }`. Admins only. */
export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  return handle(
    request,
    {
      permission: "restore.any",
      audit: "restore.drill",
      target: String(body?.server ?? ""),
      params: body,
      schema: drillInput.omit({ requestedBy: true }),
      status: 202,
      summary: (r: Awaited<ReturnType<typeof submitDrill>>) => r.label,
    },
    (user) => submitDrill({ ...body, requestedBy: user.email }),
  );
}
