/**
 * backupabort: asks a queued or running session to stop. Whatever works on it checks every
 * second and stops (server/backup/session-context.ts keepAlive); a queued session is marked
 * aborted at once. Nothing half-written is visible: an unpublished session never leaves tmp/.
 */
import { prisma } from "../db/console-db.ts";
import { InvalidInputError, ServerNotFoundError } from "../errors.ts";
import { SessionNotFoundError } from "./errors.ts";

export async function abortBackup(input: { server: string; label?: string; jobId?: string }): Promise<{ label: string; status: string }> {
  // A server that was named must exist: "unknown server", not "no session is running".
  const server = input.server ? await prisma().server.findUnique({ where: { name: input.server } }) : null;
  if (input.server && !server) throw new ServerNotFoundError(input.server);
  const session = await prisma().backupSession.findFirst({
    where: {
      ...(server ? { serverId: server.id } : {}),
      ...(input.label ? { label: input.label } : input.jobId ? { jobId: input.jobId } : { status: { in: ["queued", "running"] } }),
    },
  });
  if (!session) throw new SessionNotFoundError(input.label ?? input.jobId ?? `running on ${input.server}`);
  if (session.status === "queued") {
    await prisma().backupSession.update({ where: { id: session.id }, data: { status: "aborted", abortRequested: true, endedAt: new Date(), error: "aborted before it started" } });
    return { label: session.label, status: "aborted" };
  }
  if (session.status !== "running") throw new InvalidInputError(`session ${session.label} is ${session.status}, not running`);
  await prisma().backupSession.update({ where: { id: session.id }, data: { abortRequested: true } });
  return { label: session.label, status: "aborting" };
}
