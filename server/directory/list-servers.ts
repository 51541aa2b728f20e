import { consolePool, prisma } from "../db/console-db.ts";
import { ServerNotFoundError } from "../errors.ts";
import { parseServerSettings, type ServerSettings } from "./server-settings.ts";

export interface AccountCounts {
  total: number;
  active: number;
  maintenance: number;
  locked: number;
  closed: number;
  deleted: number;
}

export interface ServerSummary {
  name: string;
  hostname: string;
  mailstoreDatabase: string;
  blobVolumePath: string;
  redoArchivePath: string;
  backupTarget: string;
  backupMode: "standard" | "auto_grouped";
  settings: ServerSettings;
  createdAt: string;
  accounts: AccountCounts;
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

function summarize(row: ServerRow, accounts: AccountCounts): ServerSummary {
  return {
    name: row.name,
    hostname: row.hostname,
    mailstoreDatabase: row.mailstoreDatabase,
    blobVolumePath: row.blobVolumePath,
    redoArchivePath: row.redoArchivePath,
    backupTarget: row.backupTarget,
    backupMode: row.backupMode,
    settings: parseServerSettings(row.settings),
    createdAt: row.createdAt.toISOString(),
    accounts,
  };
}

export async function listServers(): Promise<ServerSummary[]> {
  const rows = await prisma().server.findMany({ orderBy: { name: "asc" } });
  const counts = await countAccounts(rows.map((r) => r.id));
  return rows.map((row) => summarize(row, counts.get(row.id)!));
}

export async function getServer(name: string): Promise<ServerSummary> {
  const row = await prisma().server.findUnique({ where: { name } });
  if (!row) throw new ServerNotFoundError(name);
  const counts = await countAccounts([row.id]);
  return summarize(row, counts.get(row.id)!);
}

export async function listServerNames(): Promise<string[]> {
  const rows = await prisma().server.findMany({ select: { name: true }, orderBy: { name: "asc" } });
  return rows.map((r) => r.name);
}
