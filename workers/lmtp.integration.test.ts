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
    replies = [(code, text)] + [lmtp.getreply() for _ in rcpts[1:]]
    out["data"] = [c for c, _ in replies]
    out["text"] = [t.decode() for _, t in replies]
lmtp.quit()
print(json.dumps(out))
`;

let env: TestEnv;
let store: Mailstore;
let listener: LmtpListener;
const logged: Error[] = [];
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
  listener = await startLmtpListener({ store, port: 0, onError: (error) => logged.push(error) });
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
    expect(result).toMatchObject({ rcpt: [250, 250], data: [250, 250] });
    expect(await inbox(bob.accountId)).toHaveLength(1);
    expect(await inbox(alice.accountId)).toHaveLength(2);
  });

  it("keeps a sender's failures in clear words and never shows one an SQL error", async () => {
    const box = (await store.pool.query("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [bob.accountId])).rows[0];
    const items = `${groupSchema(box.group_id)}.item`;
    // A fault of the store itself, for Bob's mailbox only: an SQL error naming a table.
    await store.pool.query(`CREATE FUNCTION pg_temp_lmtp_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.mailbox_id = ${Number(box.id)} THEN RAISE EXCEPTION 'relation "mboxgroup_secret" is broken'; END IF; RETURN NEW; END $$`);
    await store.pool.query(`CREATE TRIGGER lmtp_fail BEFORE INSERT ON ${items} FOR EACH ROW EXECUTE FUNCTION pg_temp_lmtp_fail()`);
    try {
      const failed = await python("manual", bob.email);
      expect(failed).toEqual({ rcpt: [250], data: [451], text: ["4.3.0 temporary failure, try again later"] });
      expect(logged.at(-1)?.message).toBe(`LMTP delivery to ${bob.email} failed: relation "mboxgroup_secret" is broken`);
    } finally {
      await store.pool.query(`DROP TRIGGER lmtp_fail ON ${items}`);
      await store.pool.query("DROP FUNCTION pg_temp_lmtp_fail()");
    }

    // A mailbox left without its folders (an emptied one): still no internals in the reply.
    const folders = await store.pool.query(`DELETE FROM ${items} WHERE mailbox_id = $1 RETURNING *`, [box.id]);
    try {
      expect(await python("manual", bob.email)).toMatchObject({ data: [451], text: ["4.3.0 temporary failure, try again later"] });
      expect(logged.at(-1)?.message).toMatch(/no folder 2 in this mailbox/);
    } finally {
      for (const row of folders.rows) {
        const columns = Object.keys(row);
        await store.pool.query(`INSERT INTO ${items} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`, columns.map((c) => row[c]));
      }
    }

    // What a sender can act on keeps its words, one answer per recipient (RFC 2033).
    await store.pool.query("UPDATE mailstore.mailbox SET quota_bytes = 1 WHERE id = $1", [box.id]);
    try {
      expect(await python("manual", `${alice.email},${bob.email}`)).toEqual({
        rcpt: [250, 250],
        data: [250, 552],
        text: [`2.1.5 <${alice.email}> delivered`, "5.2.2 mailbox is over quota"],
      });
    } finally {
      await store.pool.query("UPDATE mailstore.mailbox SET quota_bytes = 0 WHERE id = $1", [box.id]);
    }
    expect(await python("manual", bob.email)).toMatchObject({ data: [250] });
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
