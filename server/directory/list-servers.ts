import { consolePool, prisma } from "../db/console-db.ts";
import { ServerNotFoundError } from "../errors.ts";
import { expectEncrypted } from "../repository/open-backend.ts";
import { parseServerSettings, type ServerSettings } from "./server-settings.ts";

export interface AccountCounts {
  total: number;
  active: number;
  maintenance: number;
  locked: number;
  closed: number;
  deleted: number;
}

export interface LastBackups {
  full: { label: string; endedAt: string } | null;
  incremental: { label: string; endedAt: string } | null;
  running: { label: string; accountsDone: number; accountsTotal: number } | null;
  failuresLast7Days: number;
}

/** A server as configured, without the counts a listing shows. */
export interface ServerConfig {
  name: string;
  hostname: string;
  mailstoreDatabase: string;
  blobVolumePath: string;
  redoArchivePath: string;
  backupTarget: string;
  backupMode: "standard" | "auto_grouped";
  settings: ServerSettings;
  createdAt: string;
}

export interface ServerSummary extends ServerConfig {
  accounts: AccountCounts;
  backups: LastBackups;
}

async function countAccounts(serverIds: number[]): Promise<Map<number, AccountCounts>> {
  // A deleted account keeps its last status; it counts as deleted, not under that status.
  const { rows } = await consolePool().query<AccountCounts & { server_id: number }>(
    `SELECT server_id,
            count(*)::int AS total,
            count(*) FILTER (WHERE deleted_at IS NULL AND status = 'active')::int AS active,
            count(*) FILTER (WHERE deleted_at IS NULL AND status = 'maintenance')::int AS maintenance,
            count(*) FILTER (WHERE deleted_at IS NULL AND status = 'locked')::int AS locked,
            count(*) FILTER (WHERE deleted_at IS NULL AND status = 'closed')::int AS closed,
            count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted
       FROM account WHERE server_id = ANY($1) GROUP BY server_id`,
    [serverIds],
  );
  const counts = new Map<number, AccountCounts>(
    serverIds.map((id) => [id, { total: 0, active: 0, maintenance: 0, locked: 0, closed: 0, deleted: 0 }]),
  );
  for (const { server_id, ...c } of rows) counts.set(server_id, c);
  return counts;
}

type ServerRow = Awaited<ReturnType<ReturnType<typeof prisma>["server"]["findMany"]>>[number];

async function lastBackups(serverIds: number[]): Promise<Map<number, LastBackups>> {
  const { rows } = await consolePool().query<{ server_id: number; full_label: string | null; full_at: Date | null; incr_label: string | null; incr_at: Date | null; run_label: string | null; run_done: number | null; run_total: number | null; failures: number }>(
    `SELECT v.id AS server_id,
            f.label AS full_label, f.ended_at AS full_at, i.label AS incr_label, i.ended_at AS incr_at,
            r.label AS run_label, r.accounts_done AS run_done, r.accounts_total AS run_total,
            (SELECT count(*)::int FROM backup_session x WHERE x.server_id = v.id AND x.status IN ('failed', 'interrupted') AND x.created_at > now() - interval '7 days') AS failures
       FROM server v
       LEFT JOIN LATERAL (SELECT label, ended_at FROM backup_session WHERE server_id = v.id AND status = 'completed' AND type = 'full' ORDER BY ended_at DESC LIMIT 1) f ON true
       LEFT JOIN LATERAL (SELECT label, ended_at FROM backup_session WHERE server_id = v.id AND status = 'completed' AND type = 'incremental' ORDER BY ended_at DESC LIMIT 1) i ON true
       LEFT JOIN LATERAL (SELECT label, accounts_done, accounts_total FROM backup_session WHERE server_id = v.id AND status IN ('queued', 'running') LIMIT 1) r ON true
      WHERE v.id = ANY($1)`,
    [serverIds],
  );
  return new Map(
    rows.map((r) => [
      r.server_id,
      {
        full: r.full_label ? { label: r.full_label, endedAt: r.full_at!.toISOString() } : null,
        incremental: r.incr_label ? { label: r.incr_label, endedAt: r.incr_at!.toISOString() } : null,
        running: r.run_label ? { label: r.run_label, accountsDone: r.run_done ?? 0, accountsTotal: r.run_total ?? 0 } : null,
        failuresLast7Days: r.failures,
      },
    ]),
  );
}

function configOf(row: ServerRow): ServerConfig {
  const settings = parseServerSettings(row.settings);
  // Every process that reads a server learns which of its targets must stay encrypted.
  expectEncrypted(settings.encryptedTargets);
  return {
    name: row.name,
    hostname: row.hostname,
    mailstoreDatabase: row.mailstoreDatabase,
    blobVolumePath: row.blobVolumePath,
    redoArchivePath: row.redoArchivePath,
    backupTarget: row.backupTarget,
    backupMode: row.backupMode,
    settings,
    createdAt: row.createdAt.toISOString(),
  };
}

function summarize(row: ServerRow, accounts: AccountCounts, backups: LastBackups): ServerSummary {
  return { ...configOf(row), accounts, backups };
}

export async function listServers(): Promise<ServerSummary[]> {
  const rows = await prisma().server.findMany({ orderBy: { name: "asc" } });
  const ids = rows.map((r) => r.id);
  const [counts, backups] = await Promise.all([countAccounts(ids), lastBackups(ids)]);
  return rows.map((row) => summarize(row, counts.get(row.id)!, backups.get(row.id)!));
}

/** A filter naming a server that does not exist is a mistake (404), not an empty list. */
export async function assertServerExists(name: string): Promise<void> {
  if (!(await prisma().server.findUnique({ where: { name }, select: { id: true } }))) throw new ServerNotFoundError(name);
}

export async function getServer(name: string): Promise<ServerSummary> {
  const { id, ...config } = await getServerConfig(name);
  const [counts, backups] = await Promise.all([countAccounts([id]), lastBackups([id])]);
  return { ...config, accounts: counts.get(id)!, backups: backups.get(id)! };
}

/**
 * A server's configuration and id, in one query: what a job needs, without the two aggregate
 * queries of its summary (a rebuild's hundreds of account jobs each made them).
 */
export async function getServerConfig(name: string): Promise<ServerConfig & { id: number }> {
  const row = await prisma().server.findUnique({ where: { name } });
  if (!row) throw new ServerNotFoundError(name);
  return { id: row.id, ...configOf(row) };
}

export async function listServerNames(): Promise<string[]> {
  const rows = await prisma().server.findMany({ select: { name: true }, orderBy: { name: "asc" } });
  return rows.map((r) => r.name);
}
