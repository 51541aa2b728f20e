/**
 * The demo directory: two servers, two domains, a few hundred accounts (or as many as asked for),
 * some renamed, once or twice, and some deleted. Everything is derived from the account's index,
 * so running the seed again adds nothing twice, and `--accounts 100000` extends the demo set.
 *
 * Bulk inserts go through `unnest` arrays, a few thousand rows a statement, never row by row.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { consolePool, prisma } from "../db/console-db.ts";
import { serverSettingsSchema } from "../directory/server-settings.ts";
import { capitalize, LAST_NAMES, personName } from "./names.ts";

export interface SeedOptions {
  /** Generated accounts, on top of the story accounts below. */
  accounts: number;
  /** Former names spread over the generated accounts (a tenth of the accounts by default). */
  formerNames?: number;
  /** Server folders (blob volume, redo archive, backup target) go under `<dataDir>/servers/<name>`. */
  dataDir: string;
  /** Mailstore databases are named `<consoleDatabase>_<server>`. */
  consoleDatabase: string;
  /** LMTP port of the first server; the next server gets the next port. */
  lmtpBasePort?: number;
  now?: Date;
}

export interface SeedResult {
  servers: number;
  accountsCreated: number;
  formerNamesCreated: number;
}

const DOMAINS = ["example.com", "example.org"] as const;
const SERVERS = [
  { name: "mail1", hostname: "mail1.example.com", backupMode: "standard" as const },
  { name: "mail2", hostname: "mail2.example.com", backupMode: "auto_grouped" as const },
];
const DAY = 86_400_000;

interface PlannedAccount {
  key: string;
  /** Names oldest first; the last is the current one. */
  names: string[];
  displayName: string;
  server: string;
  cos: string;
  createdAt: Date;
  deletedAt: Date | null;
  status: "active" | "maintenance" | "locked" | "closed";
}

/** Accounts with a history worth showing: renames (one twice), a reused name, deletions. */
function storyAccounts(now: Date): PlannedAccount[] {
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
  const story = (p: Omit<PlannedAccount, "status" | "cos"> & Partial<PlannedAccount>): PlannedAccount => ({
    status: "active",
    cos: "default",
    ...p,
  });
  return [
    story({ key: "story-carol", names: ["carol.smith@example.com", "carol.white@example.com"], displayName: "Carol White", server: "mail1", createdAt: at(700), deletedAt: null }),
    story({ key: "story-dan", names: ["dbrown@example.org", "daniel.brown@example.org", "dan.brown@example.org"], displayName: "Dan Brown", server: "mail2", createdAt: at(650), deletedAt: null }),
    story({ key: "story-sales", names: ["sales-team@example.com", "sales@example.com"], displayName: "Sales", server: "mail1", createdAt: at(500), deletedAt: null, cos: "shared" }),
    story({ key: "story-alex-old", names: ["alex.jones@example.com"], displayName: "Alex Jones", server: "mail1", createdAt: at(600), deletedAt: at(200), status: "closed" }),
    story({ key: "story-alex-new", names: ["alexandra.jones@example.com", "alex.jones@example.com"], displayName: "Alexandra Jones", server: "mail2", createdAt: at(150), deletedAt: null }),
    story({ key: "story-eve", names: ["eve.adams@example.org"], displayName: "Eve Adams", server: "mail2", createdAt: at(400), deletedAt: at(12), status: "closed" }),
    story({ key: "story-mike", names: ["mike.ross@example.com"], displayName: "Mike Ross", server: "mail1", createdAt: at(300), deletedAt: null, status: "locked" }),
  ];
}

function generatedAccount(i: number, formerNames: number, now: Date): PlannedAccount {
  const person = personName(i);
  const domain = DOMAINS[i % DOMAINS.length]!;
  const ageDays = 30 + (i * 7919) % 700;
  const names = Array.from({ length: formerNames }, (_, j) => {
    const oldLast = LAST_NAMES[(i + 17 * (j + 1)) % LAST_NAMES.length]!;
    return `${person.first}.${oldLast}.${j + 1}@${domain}`;
  });
  names.push(`${person.localpart}@${domain}`);
  return {
    key: `generated-${i}`,
    names,
    displayName: `${capitalize(person.first)} ${capitalize(person.last)}`,
    server: SERVERS[i % 5 < 3 ? 0 : 1]!.name,
    cos: i % 20 === 0 ? "executive" : "default",
    createdAt: new Date(now.getTime() - ageDays * DAY),
    deletedAt: i % 97 === 42 ? new Date(now.getTime() - ((i % 20) + 1) * DAY) : null,
    status: i % 97 === 42 ? "closed" : i % 151 === 7 ? "locked" : "active",
  };
}

/** A stable uuid (version 5 layout) for an account key, so the seed is idempotent. */
export function accountId(key: string): string {
  const h = createHash("sha1").update(`mailvault-demo:${key}`).digest("hex");
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function ensureReferenceData(options: SeedOptions): Promise<void> {
  const db = prisma();
  for (const name of DOMAINS) await db.domain.upsert({ where: { name }, create: { name }, update: {} });
  const classes = [
    { name: "default", description: "Standard mailbox", quotaBytes: 5n * 1024n ** 3n },
    { name: "executive", description: "Larger mailbox for executives", quotaBytes: 50n * 1024n ** 3n },
    { name: "shared", description: "Shared team mailbox", quotaBytes: 20n * 1024n ** 3n },
  ];
  for (const cos of classes) await db.classOfService.upsert({ where: { name: cos.name }, create: cos, update: {} });
  const basePort = options.lmtpBasePort ?? 7025;
  for (const [index, server] of SERVERS.entries()) {
    const dir = path.join(options.dataDir, "servers", server.name);
    // mail1 also has a copy target (a second folder here; an S3 bucket in a real deployment).
    const copyTargets = index === 0 ? [{ name: "offsite", url: path.join(options.dataDir, "offsite", server.name) }] : [];
    const settings = serverSettingsSchema.parse({ lmtpPort: basePort + index, mailboxGroups: 8, copyTargets });
    await db.server.upsert({
      where: { name: server.name },
      update: {},
      create: {
        ...server,
        mailstoreDatabase: `${options.consoleDatabase}_${server.name}`,
        blobVolumePath: path.join(dir, "blobs"),
        redoArchivePath: path.join(dir, "redo-archive"),
        backupTarget: path.join(dir, "backups"),
        settings,
      },
    });
  }
}

async function insertAccounts(planned: PlannedAccount[], now: Date): Promise<{ accounts: number; formerNames: number }> {
  const pool = consolePool();
  const lookup = async (table: string) => {
    const { rows } = await pool.query<{ id: number; name: string }>(`SELECT id, name FROM ${table}`);
    return new Map(rows.map((r) => [r.name, r.id]));
  };
  const [domains, servers, classes] = await Promise.all([lookup("domain"), lookup("server"), lookup("class_of_service")]);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO account (id, email, display_name, status, domain_id, server_id, cos_id, created_at, deleted_at)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::account_status[], $5::int[], $6::int[],
                          $7::int[], $8::timestamptz[], $9::timestamptz[])
     ON CONFLICT DO NOTHING RETURNING id`,
    [
      planned.map((a) => accountId(a.key)),
      planned.map((a) => a.names.at(-1)!),
      planned.map((a) => a.displayName),
      planned.map((a) => a.status),
      planned.map((a) => domains.get(a.names.at(-1)!.split("@")[1]!)!),
      planned.map((a) => servers.get(a.server)!),
      planned.map((a) => classes.get(a.cos)!),
      planned.map((a) => a.createdAt),
      planned.map((a) => a.deletedAt),
    ],
  );
  const created = new Set(rows.map((r) => r.id));

  // Names only for accounts created now: their history is spread evenly over their lifetime.
  const names: { account: string; email: string; from: Date; to: Date | null }[] = [];
  for (const a of planned) {
    const id = accountId(a.key);
    if (!created.has(id)) continue;
    const end = a.deletedAt ?? now;
    const step = (end.getTime() - a.createdAt.getTime()) / a.names.length;
    a.names.forEach((email, j) => {
      const from = new Date(a.createdAt.getTime() + Math.round(j * step));
      const to = j === a.names.length - 1 ? null : new Date(a.createdAt.getTime() + Math.round((j + 1) * step));
      names.push({ account: id, email, from, to });
    });
  }
  if (names.length > 0) {
    await pool.query(
      `INSERT INTO account_name (account_id, email, valid_from, valid_to)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[])`,
      [names.map((n) => n.account), names.map((n) => n.email), names.map((n) => n.from), names.map((n) => n.to)],
    );
  }
  return { accounts: rows.length, formerNames: names.filter((n) => n.to !== null).length };
}

export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const now = options.now ?? new Date();
  await ensureReferenceData(options);
  const formerTotal = options.formerNames ?? Math.floor(options.accounts / 10);
  const perAccount = Math.floor(formerTotal / Math.max(options.accounts, 1));
  const extra = formerTotal - perAccount * options.accounts;
  // Spread the extra renames evenly rather than on the first accounts, so both servers get some.
  const stride = extra > 0 ? options.accounts / extra : Infinity;
  const renamedExtra = (i: number) => extra > 0 && Math.floor(i / stride) !== Math.floor((i + 1) / stride);

  let accountsCreated = 0;
  let formerNamesCreated = 0;
  const batch = 5_000;
  const planned: PlannedAccount[] = storyAccounts(now);
  for (let i = 0; i < options.accounts; i++) {
    planned.push(generatedAccount(i, perAccount + (renamedExtra(i) ? 1 : 0), now));
    if (planned.length >= batch || i === options.accounts - 1) {
      const created = await insertAccounts(planned.splice(0), now);
      accountsCreated += created.accounts;
      formerNamesCreated += created.formerNames;
    }
  }
  if (planned.length > 0) {
    const created = await insertAccounts(planned, now);
    accountsCreated += created.accounts;
    formerNamesCreated += created.formerNames;
  }
  return { servers: SERVERS.length, accountsCreated, formerNamesCreated };
}
