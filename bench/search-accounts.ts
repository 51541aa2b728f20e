/**
 * `npm run bench:search [-- --accounts 100000 --former-names 300000 --runs 30]`
 *
 * Builds a directory of its own (database `mailvault_bench_<random>`, dropped afterwards) and
 * measures account search as the console calls it, against the physical baseline in the same
 * run: one sequential scan of every name (`LIKE` over account_name with index scans disabled),
 * which is what the search would cost without its indexes. Prints p50/p95 and the ratio; a
 * total marked ~ is the estimate a broad query answers with (search-accounts.ts).
 */
import { randomBytes } from "node:crypto";
import { Command } from "commander";
import pg from "pg";
import { resetConfig, withDatabase } from "../server/config.ts";
import { closeConsoleDb } from "../server/db/console-db.ts";
import { dropDatabase, ensureDatabase } from "../server/db/databases.ts";
import { migrateDatabase } from "../server/db/migrate.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { searchAccounts, type SearchAccountsInput } from "../server/directory/search-accounts.ts";

const opts = new Command("bench:search")
  .option("--accounts <n>", "generated accounts", (v) => Number(v), 100_000)
  .option("--former-names <n>", "former names", (v) => Number(v), 300_000)
  .option("--runs <n>", "runs per query", (v) => Number(v), 30)
  .option("--reuse <database>", "measure an existing seeded database instead (kept afterwards)")
  .parse()
  .opts<{ accounts: number; formerNames: number; runs: number; reuse?: string }>();

const url = withDatabase(
  process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
  opts.reuse ?? `mailvault_bench_${randomBytes(4).toString("hex")}`,
);
process.env.DATABASE_URL = url;
resetConfig();

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(work: () => Promise<unknown>, runs: number): Promise<number[]> {
  await work(); // warm the cache: both sides are measured warm
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

const CASES: [string, SearchAccountsInput, string][] = [
  ["exact current name", { q: "carol.white@example.com" }, "%carol.white@example.com%"],
  ["exact former name", { q: "daniel.brown@example.org" }, "%daniel.brown@example.org%"],
  ["prefix while typing", { q: "ingrid.ko" }, "%ingrid.ko%"],
  ["substring of a surname", { q: "lindqvist" }, "%lindqvist%"],
  ["two letters (prefix)", { q: "zo" }, "zo%"],
  ["substring + server filter", { q: "berg", server: "mail2" }, "%berg%"],
  ["page 40 of a broad match", { q: "anders", page: 40 }, "%anders%"],
  ["one letter (prefix)", { q: "e" }, "e%"],
  ["very broad (every name)", { q: "example" }, "%example%"],
  ["broad, former names only", { q: ".2@" }, "%.2@%"],
  ["page 400 of every name", { q: "example", page: 400 }, "%example%"],
  ["no query, first page", {}, "%"],
];

try {
  if (!opts.reuse) await ensureDatabase(url);
  await migrateDatabase(url);
  const seedStart = performance.now();
  const seeded = opts.reuse
    ? { accountsCreated: 0, formerNamesCreated: 0 }
    : await seedDemo({ accounts: opts.accounts, formerNames: opts.formerNames, dataDir: "/tmp/mailvault-bench", consoleDatabase: "mailvault_bench" });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const baseline = new pg.Client({ connectionString: url });
  await baseline.connect();
  await baseline.query("ANALYZE");
  await baseline.query("SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off");
  const names = (await baseline.query<{ n: string }>("SELECT count(*) AS n FROM account_name")).rows[0]!.n;

  console.log(`directory: ${seeded.accountsCreated} accounts, ${names} names (${seeded.formerNamesCreated} former), seeded in ${seedSeconds.toFixed(1)} s`);
  console.log(`${opts.runs} warm runs per query; baseline = sequential scan of all names with LIKE\n`);
  console.log(`${"query".padEnd(28)} ${"hits".padStart(7)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"scan ms".padStart(8)} ${"ratio".padStart(7)}`);
  for (const [label, input, like] of CASES) {
    let hits = "";
    const search = await time(async () => {
      const found = await searchAccounts(input);
      hits = `${found.totalExact ? "" : "~"}${found.total}`;
    }, opts.runs);
    const scan = await time(() => baseline.query("SELECT count(DISTINCT account_id) FROM account_name WHERE email LIKE $1", [like]), Math.min(opts.runs, 10));
    const p50 = percentile(search, 50);
    const scan50 = percentile(scan, 50);
    console.log(
      `${label.padEnd(28)} ${hits.padStart(7)} ${p50.toFixed(1).padStart(8)} ${percentile(search, 95).toFixed(1).padStart(8)} ${scan50.toFixed(1).padStart(8)} ${(p50 / scan50).toFixed(2).padStart(6)}x`,
    );
  }
  await baseline.end();
} finally {
  await closeConsoleDb();
  if (!opts.reuse) await dropDatabase(url);
}
