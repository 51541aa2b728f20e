import { abortBackup } from "@/server/backup/abort-backup.ts";
import { MailvaultError } from "@/server/errors.ts";
import { getJob } from "@/server/jobs/get-job.ts";
import { abortRestoreRun } from "@/server/restore/run-restore.ts";
import { handle } from "../../_lib/guard.ts";
import { queryOf } from "../../_lib/respond.ts";

/** Aborts the backup session (`backup-<n>...`) or restore run (`restore-<n>...`) a job belongs to. */
export async function DELETE(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { server } = queryOf(request);
  const backup = /^backup-(\d+)/.exec(id);
  const restore = /^restore-(\d+)/.exec(id);
  return handle(request, { permission: restore ? "restore.abort" : "backup.abort", audit: restore ? "restore.abort" : "backup.abort", target: id }, async () => {
    if (backup) return abortBackup({ server: server ?? "", jobId: `backup-${backup[1]}` });
    if (restore) return abortRestoreRun(Number(restore[1]));
    throw new MailvaultError("invalid", "not_abortable", `job ${id} is not a backup or restore; only those can be aborted`);
  });
}

/** One job with its log lines, the other jobs of its run, and its backup session or restore run (JobDetail); 404 `job_not_found`. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { server } = queryOf(request);
  return handle(request, { permission: "read" }, () => getJob(id, server || undefined));
}
