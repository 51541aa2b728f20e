/**
 * Backup schedules, zmschedulebackup's verbs: query (-q), replace (-R), append (-A), defaults
 * (-D) and clear. A change is checked in full before anything is written; then, under a per-
 * server advisory lock, the console database is written (the source of truth) and the server's
 * queue is brought in step with it. If Redis cannot be reached the change is kept and the answer
 * says so: the next save or the next worker start puts the schedulers on the queue.
 */
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { getServer, listServers, type ServerSummary } from "../directory/list-servers.ts";
import { archiveCheckIntervalMs } from "../redo/archive-server-redo.ts";
import { checkTimeZone, DEFAULT_TIME_ZONE } from "./cron.ts";
import { checkSchedule, defaultSchedule, ENTRY_TYPES, type ScheduleEntry, type ScheduleInput } from "./schedule-entry.ts";
import { buildScheduleView, type ScheduleView } from "./schedule-view.ts";
import { readSchedulers, syncSchedulers } from "./sync-schedulers.ts";

const storedEntries = z.array(z.object({ type: z.enum(ENTRY_TYPES), pattern: z.string(), tz: z.string(), age: z.string().optional(), to: z.string().optional(), scope: z.string().optional() }));

interface Stored {
  entries: ScheduleEntry[];
  updatedAt: Date;
  updatedBy: string;
}

function copyTargetNames(server: ServerSummary): string[] {
  return server.settings.copyTargets.map((t) => t.name);
}

/** The stored schedule entries of these servers (a server with none is absent). */
export async function storedSchedules(servers: string[]): Promise<Map<string, ScheduleEntry[]>> {
  return new Map([...(await readStored(servers))].map(([server, stored]) => [server, stored.entries]));
}

async function readStored(servers: string[]): Promise<Map<string, Stored>> {
  const rows = await prisma().backupSchedule.findMany({ where: { server: { in: servers } } });
  return new Map(rows.map((r) => [r.server, { entries: storedEntries.parse(r.entries), updatedAt: r.updatedAt, updatedBy: r.updatedBy }]));
}

async function view(server: ServerSummary, stored: Stored | null, queueError?: string): Promise<ScheduleView> {
  const schedulers = await readSchedulers(server.name).catch((error: Error) => ({ error: `the queue could not be read: ${error.message}` }));
  const result = buildScheduleView({
    server: server.name,
    backupMode: server.backupMode,
    settings: server.settings,
    stored,
    schedulers,
    archiveEveryMs: archiveCheckIntervalMs(server.settings),
  });
  if (queueError) result.warnings.unshift(`saved, but the queue could not be updated (${queueError}); a worker puts the schedule on the queue when it starts`);
  return result;
}

/** `schedulebackup -q` / `GET /api/schedules/:server`. */
export async function getSchedule(serverName: string): Promise<ScheduleView> {
  const server = await getServer(serverName);
  return view(server, (await readStored([server.name])).get(server.name) ?? null);
}

/** `GET /api/schedules`: every server in the directory, with or without a schedule. */
export async function listSchedules(): Promise<{ servers: ScheduleView[] }> {
  const servers = await listServers();
  const stored = await readStored(servers.map((s) => s.name));
  return { servers: await Promise.all(servers.map((s) => view(s, stored.get(s.name) ?? null))) };
}

type Tx = Parameters<Parameters<ReturnType<typeof prisma>["$transaction"]>[0]>[0];

/** One schedule change per server at a time, until the transaction ends. */
async function lockSchedule(tx: Tx, server: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`mailvault.schedule:${server}`}))`;
}

/**
 * Writes the entries (null: no schedule) and syncs the queue, one change per server at a time:
 * the lock is held until the queue matches, so two admins saving at once end with one schedule
 * on both sides. Returns the queue's error, if any.
 */
async function store(server: string, entries: ScheduleEntry[] | null, by: string): Promise<string | undefined> {
  return prisma().$transaction(
    async (tx) => {
      await lockSchedule(tx, server);
      if (entries === null) await tx.backupSchedule.deleteMany({ where: { server } });
      else {
        const data = { entries: JSON.parse(JSON.stringify(entries)), updatedAt: new Date(), updatedBy: by };
        await tx.backupSchedule.upsert({ where: { server }, create: { server, ...data }, update: data });
      }
      return syncSchedulers(server, entries ?? []).then(
        () => undefined,
        (error: Error) => error.message,
      );
    },
    { timeout: 30_000 },
  );
}

async function save(server: ServerSummary, entries: ScheduleEntry[] | null, by: string): Promise<ScheduleView> {
  const queueError = await store(server.name, entries, by);
  const stored = (await readStored([server.name])).get(server.name) ?? null;
  return view(server, stored, queueError);
}

export interface ChangeInput extends ScheduleInput {
  server: string;
  /** Who changes it, for the stored schedule (the API and CLI also write the audit log). */
  by: string;
}

/** `schedulebackup -R` / `PUT /api/schedules/:server`: the entries replace the whole schedule. */
export async function replaceSchedule(input: ChangeInput): Promise<ScheduleView> {
  const server = await getServer(input.server);
  const entries = checkSchedule(server.name, server.backupMode, input, copyTargetNames(server));
  return save(server, entries, input.by);
}

/**
 * `schedulebackup -A`: the entries are added after the stored ones. Without a zone they take the
 * zone the stored entries share, so `-A f "0 1 * * 4"` on a Europe/Berlin schedule means 01:00 there.
 */
export async function appendToSchedule(input: ChangeInput): Promise<ScheduleView> {
  const server = await getServer(input.server);
  const current = (await readStored([server.name])).get(server.name)?.entries ?? [];
  const zones = [...new Set(current.map((e) => e.tz))];
  const added = checkSchedule(server.name, server.backupMode, { ...input, tz: input.tz ?? (zones.length === 1 ? zones[0] : undefined) }, copyTargetNames(server));
  const entries = checkSchedule(server.name, server.backupMode, { entries: [...current, ...added] }, copyTargetNames(server));
  return save(server, entries, input.by);
}

/** `schedulebackup -D` / `POST /api/schedules/:server/defaults`: Zimbra's default schedule for the server's mode. */
export async function applyDefaultSchedule(input: { server: string; tz?: string; by: string }): Promise<ScheduleView> {
  const server = await getServer(input.server);
  return save(server, defaultSchedule(server.backupMode, checkTimeZone(input.tz ?? DEFAULT_TIME_ZONE)), input.by);
}

/** `schedulebackup --clear` / `DELETE /api/schedules/:server`: no scheduled backups. */
export async function clearSchedule(input: { server: string; by: string }): Promise<ScheduleView> {
  const server = await getServer(input.server);
  return save(server, null, input.by);
}

/**
 * A worker's start: put the stored schedule back on the server's queue (Redis may have been
 * restarted or flushed) and drop schedulers the database no longer has.
 */
export async function restoreSchedulers(serverName: string): Promise<{ entries: number; removed: string[] }> {
  return prisma().$transaction(
    async (tx) => {
      await lockSchedule(tx, serverName);
      const row = await tx.backupSchedule.findUnique({ where: { server: serverName } });
      const entries = row ? storedEntries.parse(row.entries) : [];
      const { removed } = await syncSchedulers(serverName, entries);
      return { entries: entries.length, removed };
    },
    { timeout: 30_000 },
  );
}

/** The stored entry n of a server, or null; what a scheduled job checks before it acts. */
export async function storedEntry(serverName: string, n: number): Promise<ScheduleEntry | null> {
  return (await readStored([serverName])).get(serverName)?.entries[n - 1] ?? null;
}
