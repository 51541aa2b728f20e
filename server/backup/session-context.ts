import { readFile } from "node:fs/promises";
import path from "node:path";
import { prisma } from "../db/console-db.ts";
import { getServer, type ServerSummary } from "../directory/list-servers.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { heartbeat } from "./catalog.ts";
import { BackupTarget } from "./target.ts";

export interface SessionContext {
  server: ServerSummary;
  serverId: number;
  store: Mailstore;
  target: BackupTarget;
  session: Awaited<ReturnType<ReturnType<typeof prisma>["backupSession"]["findUniqueOrThrow"]>>;
  /** The session's folder while it is being written. */
  dir: string;
}

export async function loadSessionContext(serverName: string, sessionId: number): Promise<SessionContext> {
  const server = await getServer(serverName);
  const session = await prisma().backupSession.findUniqueOrThrow({ where: { id: sessionId } });
  const serverRow = await prisma().server.findUniqueOrThrow({ where: { name: serverName } });
  const target = await BackupTarget.forSession(server.backupTarget, server.name, session.label);
  return { server, serverId: serverRow.id, store: await openMailstore(serverName), target, session, dir: target.sessionDir(session.label, "tmp") };
}

/**
 * Keeps a session's heartbeat fresh while work runs and aborts the work when the session is
 * aborted (backupabort) or taken over: checked every second, so an abort lands within seconds.
 */
export function keepAlive(sessionId: number): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const timer = setInterval(() => {
    heartbeat(sessionId)
      .then(({ goOn }) => {
        if (!goOn) controller.abort(new Error("session aborted"));
      })
      .catch(() => {});
  }, 1_000);
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, "utf8")) as T;
}

export function sessionFile(ctx: SessionContext, relative: string): string {
  return path.join(ctx.dir, relative);
}
