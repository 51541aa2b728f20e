import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../config.ts";
import { consolePool } from "../db/console-db.ts";
import { seedDemo } from "../demo/seed-demo.ts";
import { createTestEnv, type TestEnv } from "../testing/test-env.ts";
import { listServers } from "./list-servers.ts";
import { accountsByAnyName, accountsByAnyNames } from "./resolve-account.ts";
import { searchAccounts, type SearchAccountsInput, type SearchStrategy } from "./search-accounts.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 240, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
});

afterAll(() => env?.cleanup());

describe("the demo seed", () => {
  it("builds two servers over two domains with renamed and deleted accounts, and adds nothing when run again", async () => {
    const servers = await listServers();
    expect(servers.map((s) => s.name)).toEqual(["mail1", "mail2"]);
    const total = servers.reduce((n, s) => n + s.accounts.total, 0);
    expect(total).toBeGreaterThanOrEqual(200);
    expect(servers.reduce((n, s) => n + s.accounts.deleted, 0)).toBeGreaterThanOrEqual(1);
    expect(servers.every((s) => s.accounts.total > 50)).toBe(true);

    const again = await seedDemo({ accounts: 240, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
    expect(again.accountsCreated).toBe(0);
    expect((await listServers()).reduce((n, s) => n + s.accounts.total, 0)).toBe(total);
  });
});

describe("searchAccounts", () => {
  it("marks prefixed copies with the account they copy, and filters copies or originals", async () => {
    const dan = (await searchAccounts({ q: "dan.brown@example.org" })).items.find((a) => a.email === "dan.brown@example.org")!;
    const copy = (await searchAccounts({ q: "carol.white@example.com" })).items[0]!;
    // What a copy restore records on the copy's directory entry (restore-account.ts): the account it copies.
    await consolePool().query("UPDATE account SET copy_of = $1 WHERE id = $2", [dan.id, copy.id]);
    const copies = await searchAccounts({ kind: "copies" });
    expect(copies.items.map((a) => [a.email, a.copyOf])).toEqual([[copy.email, "dan.brown@example.org"]]);
    expect(copies.total).toBe(1);
    const originals = await searchAccounts({ kind: "originals", q: "carol" });
    expect(originals.items.map((a) => a.email)).not.toContain(copy.email);
    expect((await searchAccounts({ q: "carol.white@example.com" })).items[0]).toMatchObject({ email: copy.email, copyOf: "dan.brown@example.org" });
    await expect(searchAccounts({ kind: "twins" as never })).rejects.toThrow(/kind is copies or originals/);
    await consolePool().query("UPDATE account SET copy_of = NULL WHERE id = $1", [copy.id]);
  });

  it("finds a renamed account by its former name, under its current name", async () => {
    const page = await searchAccounts({ q: "carol.smith@example.com" });
    const carol = page.items.find((a) => a.email === "carol.white@example.com");
    expect(carol).toMatchObject({ matchedFormerName: "carol.smith@example.com", deletedAt: null });
    // The name was later given to someone else, who is found too, by the current name.
    expect(page.items[0]).toMatchObject({ email: "carol.smith@example.com", matchedFormerName: null });
  });

  it("finds an account renamed twice by either former name", async () => {
    for (const old of ["dbrown@example.org", "daniel.brown"]) {
      const { items } = await searchAccounts({ q: old });
      expect(items.map((a) => [a.email, a.matchedFormerName])).toContainEqual([
        "dan.brown@example.org",
        old.includes("@") ? old : "daniel.brown@example.org",
      ]);
    }
    const { items } = await searchAccounts({ q: "dan.brown" });
    expect(items.find((a) => a.email === "dan.brown@example.org")).toMatchObject({ matchedFormerName: null, formerNameCount: 2 });
  });

  it("matches substrings case-insensitively and marks deleted accounts", async () => {
    const { items } = await searchAccounts({ q: "EVE.ADAMS" });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ email: "eve.adams@example.org", status: "closed" });
    expect(items[0]!.deletedAt).not.toBeNull();

    const middle = await searchAccounts({ q: "adams@" });
    expect(middle.items.map((a) => a.email)).toContain("eve.adams@example.org");
  });

  it("returns both the deleted owner of a reused name and its current owner", async () => {
    const { items } = await searchAccounts({ q: "alex.jones@example.com" });
    expect(items).toHaveLength(2);
    const deleted = items.find((a) => a.deletedAt !== null);
    const live = items.find((a) => a.deletedAt === null);
    expect(deleted).toMatchObject({ email: "alex.jones@example.com", server: "mail1" });
    expect(live).toMatchObject({ email: "alex.jones@example.com", server: "mail2", formerNameCount: 1 });
  });

  it("ranks prefix matches before other substring matches", async () => {
    const { items } = await searchAccounts({ q: "jon", pageSize: 200 });
    const isPrefix = items.map((a) => (a.matchedFormerName ?? a.email).startsWith("jon"));
    const firstOther = isPrefix.indexOf(false);
    expect(firstOther).toBeGreaterThan(0); // jonas.* first, then *.jones
    expect(isPrefix.slice(firstOther).includes(true)).toBe(false);
  });

  it("treats LIKE wildcards in the query as plain characters", async () => {
    expect((await searchAccounts({ q: "%" })).total).toBe(0);
    expect((await searchAccounts({ q: "a_c" })).total).toBe(0);
  });

  it("uses prefix matching for one or two characters", async () => {
    const { items, total } = await searchAccounts({ q: "zo", pageSize: 200 });
    expect(total).toBeGreaterThan(0);
    expect(items.every((a) => (a.matchedFormerName ?? a.email).startsWith("zo"))).toBe(true);
  });

  it("filters by server and status, and pages through a stable order", async () => {
    const deleted = await searchAccounts({ status: "deleted", pageSize: 200 });
    expect(deleted.total).toBeGreaterThanOrEqual(1);
    expect(deleted.items.every((a) => a.deletedAt !== null)).toBe(true);

    const locked = await searchAccounts({ status: "locked", server: "mail1" });
    expect(locked.items.map((a) => a.email)).toContain("mike.ross@example.com");
    expect(locked.items.every((a) => a.status === "locked" && a.server === "mail1" && a.deletedAt === null)).toBe(true);

    const all = await searchAccounts({ server: "mail2", pageSize: 200 });
    const pages = [];
    for (let page = 1; page <= Math.ceil(all.total / 30); page++) pages.push(...(await searchAccounts({ server: "mail2", pageSize: 30, page })).items);
    expect(pages.map((a) => a.id)).toEqual(all.items.map((a) => a.id));
    expect(new Set(pages.map((a) => a.id)).size).toBe(all.total);
  });

  it("reports the total on a page past the end", async () => {
    const page = await searchAccounts({ q: "carol", page: 50 });
    expect(page.items).toEqual([]);
    expect(page.total).toBeGreaterThan(0);
  });

  it("answers a query the same whether it collects the matches or walks the accounts in email order", async () => {
    const cases: SearchAccountsInput[] = [
      { q: "example" },
      { q: "exa" },
      { q: "jon" },
      { q: "a" },
      { q: "carol" },
      { q: "carol.smith@example.com" },
      { q: ".org", server: "mail2" },
      { q: "brown", status: "active" },
      { q: "e", status: "deleted" },
    ];
    for (const input of cases) {
      const pages = async (strategy: SearchStrategy, walkBudget?: number) => {
        const seen: [string, string | null][] = [];
        const totals = new Set<string>();
        for (let page = 1; ; page++) {
          const found = await searchAccounts({ ...input, page, pageSize: 7 }, { strategy, walkBudget });
          totals.add(`${found.total} ${found.totalExact}`);
          seen.push(...found.items.map((a) => [a.email, a.matchedFormerName] as [string, string | null]));
          if (found.items.length < 7) break;
        }
        return { seen, totals: [...totals] };
      };
      const collected = await pages("collect");
      expect(collected.totals).toEqual([`${collected.seen.length} true`]);
      // The sample of a small directory is every account, so even the walked totals are exact.
      expect(await pages("walk"), `${JSON.stringify(input)} walked`).toEqual(collected);
      // A walk whose budget runs out before the page is full collects the page after all.
      expect(await pages("walk", 10), `${JSON.stringify(input)} walked on a budget of 10 accounts`).toEqual(collected);
    }
  });

  it("rejects impossible pages with a message", async () => {
    await expect(searchAccounts({ page: -1 })).rejects.toThrow(/page is at least 1/);
    await expect(searchAccounts({ pageSize: 100_000 })).rejects.toThrow(/at most 200/);
  });
});

describe("accountsByAnyNames", () => {
  it("resolves current names, former names, reused names and ids in one query, as one lookup each would", async () => {
    const pick = async (sql: string) => (await consolePool().query<{ name: string }>(sql)).rows.map((r) => r.name);
    const current = await pick("SELECT email AS name FROM account_name WHERE valid_to IS NULL ORDER BY email LIMIT 20");
    const former = await pick("SELECT email AS name FROM account_name WHERE valid_to IS NOT NULL ORDER BY email LIMIT 5");
    const reused = await pick("SELECT email AS name FROM account_name GROUP BY email HAVING count(DISTINCT account_id) > 1 LIMIT 2");
    const ids = await pick("SELECT id::text AS name FROM account ORDER BY email LIMIT 3");
    expect([current.length, former.length > 0, ids.length]).toEqual([20, true, 3]);
    const names = [...current, ...former, ...reused, ...ids, ` ${former[0]!.toUpperCase()} `];
    // The reference: one plain query per name, an id matching only its account's current name.
    const expected = async (name: string) => {
      const value = name.trim().toLowerCase();
      const byId = /^[0-9a-f-]{36}$/.test(value);
      const { rows } = await consolePool().query<{ id: string; email: string; name: string; valid_to: Date | null }>(
        `SELECT a.id, a.email, n.email AS name, n.valid_to FROM account_name n JOIN account a ON a.id = n.account_id
          WHERE ${byId ? "a.id = $1::uuid AND n.valid_to IS NULL" : "n.email = $1"} ORDER BY n.valid_from DESC`,
        [value],
      );
      return rows.map((r) => ({ id: r.id, email: r.email, name: r.name, validTo: r.valid_to }));
    };
    const found = await accountsByAnyNames([...names, "nobody@example.com"]);
    for (const name of names) {
      const got = found.get(name.trim().toLowerCase())!;
      expect(got.map((a) => ({ id: a.id, email: a.email, name: a.name.email, validTo: a.name.validTo }))).toEqual(await expected(name));
      expect(got.length).toBeGreaterThan(0);
      expect(await accountsByAnyName(name)).toEqual(got);
    }
    expect(reused.every((n) => new Set(found.get(n)!.map((a) => a.id)).size > 1)).toBe(true);
    expect(found.get(former[0]!)!.map((a) => a.name.validTo)).not.toContain(null);
    expect(found.get("nobody@example.com")).toEqual([]);
    await expect(accountsByAnyName("nobody@example.com")).rejects.toThrow(/nobody@example.com/);
  });
});
