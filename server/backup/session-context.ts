import { prisma } from "../db/console-db.ts";
import { getServerConfig, type ServerConfig } from "../directory/list-servers.ts";
import { openMailstore, type Mailstore } from "../mailstore/mailstore.ts";
import { heartbeat } from "./catalog.ts";
import { BackupTarget } from "./target.ts";

export interface SessionContext {
  server: ServerConfig;
  serverId: number;
  store: Mailstore;
  target: BackupTarget;
  session: Awaited<ReturnType<ReturnType<typeof prisma>["backupSession"]["findUniqueOrThrow"]>>;
  /** The session's label: its files are `sessions/<label>/...` on the target. */
  label: string;
}

export async function loadSessionContext(serverName: string, sessionId: number): Promise<SessionContext> {
  const [{ id: serverId, ...server }, session] = await Promise.all([getServerConfig(serverName), prisma().backupSession.findUniqueOrThrow({ where: { id: sessionId } })]);
  const target = await BackupTarget.forSession(server.backupTarget, server.name, session.label);
  return { server, serverId, store: await openMailstore(serverName), target, session, label: session.label };
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

/** A JSON file of the session being written. */
export async function readSessionJsonFile<T>(ctx: SessionContext, relative: string): Promise<T> {
  return JSON.parse((await ctx.target.readSessionFile(ctx.label, relative)).toString("utf8")) as T;
}
