/**
 * LMTP delivery with a client nobody here wrote: Python's smtplib.LMTP, run as a real process
 * against the listener the worker starts, delivering into real mailboxes and the redo log.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseName } from "../server/config.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { openMailstore, type Mailstore } from "../server/mailstore/mailstore.ts";
import { groupSchema } from "../server/mailstore/schema.ts";
import { setUpServerStore } from "../server/mailstore/setup-mailstore.ts";
import { createTestEnv, type TestEnv } from "../server/testing/test-env.ts";
import { startLmtpListener, type LmtpListener } from "./lmtp-server.ts";

const PYTHON = String.raw`
import json, smtplib, sys
port, mode = int(sys.argv[1]), sys.argv[2]
msg = ("From: Pat Sender <pat@example.net>\r\nTo: team@example.com\r\nSubject: Budget 2027\r\n"
       "Date: Tue, 03 Nov 2026 09:30:00 +0000\r\nMessage-ID: <budget-2027@example.net>\r\n\r\nNumbers attached.\r\n")
lmtp = smtplib.LMTP("127.0.0.1", port)
out = {}
if mode == "sendmail":
    try:
        refused = lmtp.sendmail("pat@example.net", sys.argv[3].split(","), msg)
        out = {"refused": {k: v[0] for k, v in refused.items()}}
    except smtplib.SMTPRecipientsRefused as e:
        out = {"allRefused": {k: v[0] for k, v in e.recipients.items()}}
else:
    lmtp.ehlo_or_helo_if_needed()
    lmtp.mail("pat@example.net")
    rcpts = sys.argv[3].split(",")
    out["rcpt"] = [lmtp.rcpt(r)[0] for r in rcpts]
    code, text = lmtp.data(msg)
    replies = [code] + [lmtp.getreply()[0] for _ in rcpts[1:]]
    out["data"] = replies
lmtp.quit()
print(json.dumps(out))
`;

let env: TestEnv;
let store: Mailstore;
let listener: LmtpListener;
let alice: { accountId: string; email: string };
let bob: { accountId: string; email: string };

async function python(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)("python3", ["-c", PYTHON, String(listener.port), ...args]);
  return JSON.parse(stdout);
}

async function inbox(accountId: string) {
  const { rows: m } = await store.pool.query("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [accountId]);
  const { rows } = await store.pool.query(`SELECT subject, sender, folder_id, date FROM ${groupSchema(m[0].group_id)}.item WHERE mailbox_id = $1 AND type = 'message'`, [m[0].id]);
  return rows;
}

beforeAll(async () => {
  env = await createTestEnv();
  await seedDemo({ accounts: 0, dataDir: env.dataDir, consoleDatabase: databaseName(env.databaseUrl) });
  await setUpServerStore("mail1");
  store = await openMailstore("mail1");
  alice = await createAccount(store, { email: "alice.lmtp@example.com" });
  bob = await createAccount(store, { email: "bob.lmtp@example.com" });
  listener = await startLmtpListener({ store, port: 0 });
});

afterAll(async () => {
  await listener?.close();
  await env?.cleanup();
});

describe("LMTP delivery from Python's smtplib", () => {
  it("delivers to a local mailbox and refuses an unknown one with 550", async () => {
    const result = await python("sendmail", `${alice.email},nobody@example.com`);
    expect(result).toEqual({ refused: { "nobody@example.com": 550 } });
    expect(await inbox(alice.accountId)).toEqual([
      { subject: "Budget 2027", sender: "pat@example.net", folder_id: 2, date: new Date("2026-11-03T09:30:00Z") },
    ]);
    const { rows } = await store.pool.query("SELECT op, payload->>'subject' AS subject, blob IS NOT NULL AS carries FROM mailstore.redo_log WHERE account_id = $1 ORDER BY seq DESC LIMIT 1", [alice.accountId]);
    expect(rows[0]).toEqual({ op: "DeliverMessage", subject: "Budget 2027", carries: true });
  });

  it("answers each accepted recipient separately after DATA", async () => {
    const result = await python("manual", `${alice.email},${bob.email}`);
    expect(result).toEqual({ rcpt: [250, 250], data: [250, 250] });
    expect(await inbox(bob.accountId)).toHaveLength(1);
    expect(await inbox(alice.accountId)).toHaveLength(2);
  });

  it("answers 452 when the mailstore is unavailable", async () => {
    const broken = { ...store, pool: new (await import("pg")).default.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/none", connectionTimeoutMillis: 500 }) };
    const down = await startLmtpListener({ store: broken, port: 0 });
    try {
      const { stdout } = await promisify(execFile)("python3", ["-c", PYTHON, String(down.port), "sendmail", alice.email]);
      expect(JSON.parse(stdout)).toEqual({ allRefused: { [alice.email]: 452 } });
    } finally {
      await down.close();
      await broken.pool.end();
    }
  });
});
