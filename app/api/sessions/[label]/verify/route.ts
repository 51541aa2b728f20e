import { getSession } from "@/server/backup/query-sessions.ts";
import { runJob } from "@/server/jobs/run-job.ts";
import { handle } from "../../../_lib/guard.ts";
import { queryOf } from "../../../_lib/respond.ts";

/** Verify one session on its server's worker and answer the report. */
export async function POST(request: Request, { params }: { params: Promise<{ label: string }> }) {
  const { label } = await params;
  const { server } = queryOf(request);
  return handle(request, { permission: "backup.verify", audit: "backup.verify", target: label }, async () => {
    const session = await getSession(server || undefined, label);
    const { result } = await runJob(session.server, "backup.verify", { label, all: false }, 600_000);
    return { reports: result };
  });
}
