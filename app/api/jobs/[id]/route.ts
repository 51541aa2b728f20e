import { abortBackup } from "@/server/backup/abort-backup.ts";
import { MailvaultError } from "@/server/errors.ts";
import { queryOf, respond } from "../../_lib/respond.ts";

/** Aborts the backup session a job belongs to (`backup-<session>` and its children). */
export async function DELETE(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { server } = queryOf(request);
  return respond(async () => {
    const session = /^backup-(\d+)/.exec(id);
    if (!session) throw new MailvaultError("invalid", "not_abortable", `job ${id} is not a backup or restore; only those can be aborted`);
    return abortBackup({ server: server ?? "", jobId: `backup-${session[1]}` });
  });
}
