/**
 * Every API route, found on disk, called as each role with broken input: NUL, invalid UTF-16,
 * huge, negative, out-of-range, wrongly typed and deeply nested values in path segments, query
 * values and bodies. A caller's mistake must answer 4xx with `{ error: { code, message } }`,
 * never a 5xx, and change nothing.
 */
import { appendFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "@/server/config.ts";
import { consolePool } from "@/server/db/console-db.ts";
import { seedDemo } from "@/server/demo/seed-demo.ts";
import { setUpServerStore } from "@/server/mailstore/setup-mailstore.ts";
import { createTestEnv, signedInCookie, type TestEnv } from "@/server/testing/test-env.ts";

let env: TestEnv;
const cookies: Record<string, string> = {};

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 20, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  cookies.admin = await signedInCookie("admin");
  cookies.helpdesk = await signedInCookie("helpdesk");
}, 180_000);

afterAll(() => env?.cleanup());

const STRINGS = ["\u0000", "mail1\u0000", "\ud800", "x".repeat(70_000), "-1", "0", "1e309", "0x10", "99999999999999999999999", "2026-02-30", "0000-01-01T00:00:00Z", "../../etc/passwd", "null", "true", "[]"];
const QUERY_KEYS = ["q", "server", "limit", "page", "pageSize", "from", "to", "account", "beforeSeq", "label", "folder", "state", "name", "actor", "action", "outcome", "at", "type", "status"];
const BODIES: unknown[] = [
  null,
  [],
  "text",
  123,
  true,
  {},
  { server: "\u0000" },
  { server: 123, accounts: "all" },
  { server: "mail1", accounts: [123, null], restoreToRedoSeq: "0x10", group: true },
  { server: "mail1", accounts: ["a@example.com"], restoreToRedoSeq: "1e3", restoreToTime: "2026-02-30", copy: "yes" },
  { server: "mail1", type: "sideways", accounts: { a: 1 } },
  { email: 5, password: {}, role: null, disabled: "false" },
  { email: "x".repeat(1_000_000), password: "a long enough password" },
  { schedule: [{ cron: "\u0000" }], entries: "x" },
  { confirm: { $ne: null }, password: 12345678901234, disabled: "false" },
];
/** 10,000 levels of nesting, written out (JSON.stringify cannot go that deep). */
const DEEP = `{"server":"mail1","deep":${'{"d":'.repeat(10_000)}{}${"}".repeat(10_000)}}`;

interface Route {
  file: string;
  segments: string[];
  methods: Record<string, (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>>;
}

async function routes(): Promise<Route[]> {
  const root = path.join(process.cwd(), "app", "api");
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith("route.ts")).sort();
  const found: Route[] = [];
  for (const file of files) {
    const module = (await import(path.join(root, file))) as Record<string, unknown>;
    const methods = Object.fromEntries(Object.entries(module).filter(([k, v]) => ["GET", "POST", "PUT", "PATCH", "DELETE"].includes(k) && typeof v === "function")) as Route["methods"];
    found.push({ file, segments: path.dirname(file).split(path.sep).filter((s) => s !== "."), methods });
  }
  return found;
}

/** The URL and the params a route gets when every dynamic segment is `value`. */
function address(route: Route, value: string, query = "") {
  const params: Record<string, string | string[]> = {};
  const parts = route.segments.map((s) => {
    const dynamic = /^\[(\.\.\.)?(\w+)\]$/.exec(s);
    if (!dynamic) return s;
    params[dynamic[2]!] = dynamic[1] ? [value] : value;
    // A lone surrogate has no UTF-8: sent as the bytes a careless client would send.
    return value === "\ud800" ? "%ED%A0%80" : encodeURIComponent(value);
  });
  return { url: `http://localhost/api/${parts.join("/")}${query}`, params };
}

describe("every API route, fed broken input", () => {
  it("answers 4xx with an error body, never 5xx, and changes nothing", { timeout: 900_000 }, async () => {
    const counts = async () =>
      (
        await consolePool().query(
          `SELECT (SELECT count(*) FROM backup_session) AS sessions, (SELECT count(*) FROM restore_run) AS restores, (SELECT count(*) FROM console_user) AS users,
                  (SELECT count(*) FROM account) AS accounts, (SELECT count(*) FROM backup_schedule) AS schedules`,
        )
      ).rows[0];
    const before = await counts();
    const failures: string[] = [];
    let calls = 0;
    const call = async (route: Route, method: string, url: string, params: Record<string, string | string[]>, cookie: string, body?: string) => {
      calls++;
      const started = performance.now();
      let response: Response;
      // FUZZ_LOG=<file>: each call as it ends, to find a slow or failing one while it runs.
      const trace = (status: number | string) => process.env.FUZZ_LOG && appendFileSync(process.env.FUZZ_LOG, `${(performance.now() - started).toFixed(0)}ms ${status} ${method} ${url.slice(0, 100)} ${body?.slice(0, 60) ?? ""}\n`);
      try {
        response = await route.methods[method]!(new Request(url, { method, headers: { cookie, "content-type": "application/json" }, body }), { params: Promise.resolve(params) });
      } catch (error) {
        failures.push(`${method} ${url.slice(0, 120)} threw ${(error as Error).message.slice(0, 200)}`);
        return;
      }
      trace(response.status);
      if (response.status >= 500 && response.status !== 503) failures.push(`${method} ${url.slice(0, 120)} ${body?.slice(0, 80) ?? ""} -> ${response.status} ${(await response.text()).slice(0, 200)}`);
      // /api/health answers 503 with its report when a service is down (no worker runs here).
      else if (response.status >= 400 && !(route.file.startsWith("health") && response.status === 503)) {
        const json = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
        if (typeof json?.error?.code !== "string" || typeof json.error.message !== "string") failures.push(`${method} ${url.slice(0, 120)} -> ${response.status} without an error body`);
      }
    };
    for (const route of await routes()) {
      for (const method of Object.keys(route.methods)) {
        for (const role of ["admin", "helpdesk"]) {
          const cookie = cookies[role]!;
          if (route.segments.some((s) => s.startsWith("["))) for (const value of STRINGS) {
            const { url, params } = address(route, value);
            await call(route, method, url, params, cookie, method === "GET" || method === "DELETE" ? undefined : "{}");
          }
          const { params } = address(route, "mail1");
          for (const key of QUERY_KEYS) {
            for (const value of [STRINGS[0]!, STRINGS[3]!, STRINGS[4]!, STRINGS[8]!, STRINGS[9]!]) {
              await call(route, method, address(route, "mail1", `?${new URLSearchParams({ [key]: value })}`).url, params, cookie, method === "GET" || method === "DELETE" ? undefined : "{}");
            }
          }
          if (method !== "GET") {
            for (const body of [...BODIES.map((b) => JSON.stringify(b)), DEEP]) await call(route, method, address(route, "mail1").url, params, cookie, body);
            await call(route, method, address(route, "mail1").url, params, cookie, "{not json");
          }
        }
      }
    }
    console.log(`fuzzed ${calls} calls`);
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});
