import { consolePool } from "../db/console-db.ts";
import { AccountNotFoundError } from "../errors.ts";

export interface AccountDetail {
  id: string;
  email: string;
  displayName: string;
  status: string;
  /** Why the account is not active, when Mailvault put it so (a restore that could not rebuild its mailbox). */
  statusReason: string | null;
  server: string;
  domain: string;
  classOfService: string;
  quotaBytes: number;
  createdAt: string;
  deletedAt: string | null;
  /** Every name, oldest first; the last one is current unless the account is deleted. */
  names: { email: string; validFrom: string; validTo: string | null }[];
}

export async function getAccount(id: string): Promise<AccountDetail> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new AccountNotFoundError(id);
  const { rows } = await consolePool().query(
    `SELECT a.id, a.email, a.display_name, a.status, a.status_reason, s.name AS server, d.name AS domain, c.name AS cos, c.quota_bytes, a.created_at, a.deleted_at
       FROM account a JOIN server s ON s.id = a.server_id JOIN domain d ON d.id = a.domain_id JOIN class_of_service c ON c.id = a.cos_id
      WHERE a.id = $1`,
    [id],
  );
  const a = rows[0];
  if (!a) throw new AccountNotFoundError(id);
  const { rows: names } = await consolePool().query<{ email: string; valid_from: Date; valid_to: Date | null }>(
    "SELECT email, valid_from, valid_to FROM account_name WHERE account_id = $1 ORDER BY valid_from, id",
    [id],
  );
  return {
    id: a.id,
    email: a.email,
    displayName: a.display_name,
    status: a.status,
    statusReason: a.status_reason ?? null,
    server: a.server,
    domain: a.domain,
    classOfService: a.cos,
    quotaBytes: Number(a.quota_bytes),
    createdAt: a.created_at.toISOString(),
    deletedAt: a.deleted_at?.toISOString() ?? null,
    names: names.map((n) => ({ email: n.email, validFrom: n.valid_from.toISOString(), validTo: n.valid_to?.toISOString() ?? null })),
  };
}

/** Several accounts at once (two queries), for a batch of backups. */
export async function getAccounts(ids: string[]): Promise<Map<string, AccountDetail>> {
  const { rows } = await consolePool().query(
    `SELECT a.id, a.email, a.display_name, a.status, a.status_reason, s.name AS server, d.name AS domain, c.name AS cos, c.quota_bytes, a.created_at, a.deleted_at
       FROM account a JOIN server s ON s.id = a.server_id JOIN domain d ON d.id = a.domain_id JOIN class_of_service c ON c.id = a.cos_id
      WHERE a.id = ANY($1::uuid[])`,
    [ids],
  );
  const { rows: names } = await consolePool().query<{ account_id: string; email: string; valid_from: Date; valid_to: Date | null }>(
    "SELECT account_id, email, valid_from, valid_to FROM account_name WHERE account_id = ANY($1::uuid[]) ORDER BY valid_from, id",
    [ids],
  );
  return new Map(
    rows.map((a) => [
      a.id,
      {
        id: a.id,
        email: a.email,
        displayName: a.display_name,
        status: a.status,
        statusReason: a.status_reason ?? null,
        server: a.server,
        domain: a.domain,
        classOfService: a.cos,
        quotaBytes: Number(a.quota_bytes),
        createdAt: a.created_at.toISOString(),
        deletedAt: a.deleted_at?.toISOString() ?? null,
        names: names.filter((n) => n.account_id === a.id).map((n) => ({ email: n.email, validFrom: n.valid_from.toISOString(), validTo: n.valid_to?.toISOString() ?? null })),
      },
    ]),
  );
}
