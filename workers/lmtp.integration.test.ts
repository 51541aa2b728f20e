/**
 * LMTP delivery with a client nobody here wrote: Python's smtplib.LMTP, run as a real process
 * against the listener the worker starts, delivering into real mailboxes and the redo log.
 */
import { execFile } from "node:child_process";
import net from "node:net";
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
if mode == "big":
    # 200 MB, built and sent by this process, so the listener's memory is measured alone.
    msg, mode = "Subject: huge\r\n\r\n" + ("x" * 998 + "\r\n") * (200 * 1024), "manual"
lmtp = smtplib.LMTP("127.0.0.1", port, timeout=60)
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
    const { rows } = await store.pool.query("SELECT op, payload->>'subject' AS subject, payload->>'digest' AS digest FROM mailstore.redo_log WHERE account_id = $1 ORDER BY seq DESC LIMIT 1", [alice.accountId]);
    expect(rows[0]).toMatchObject({ op: "DeliverMessage", subject: "Budget 2027" });
    expect((await store.blobs.read(rows[0].digest)).toString()).toContain("Subject: Budget 2027");
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

  it("answers every accepted RCPT after DATA, repeats and case variants included, and delivers once per mailbox (RFC 2033)", async () => {
    const before = { alice: (await inbox(alice.accountId)).length, bob: (await inbox(bob.accountId)).length };
    const rcpts = [alice.email, alice.email.toUpperCase(), bob.email, alice.email, bob.email];
    const result = await python("manual", rcpts.join(","));
    expect(result).toMatchObject({ rcpt: [250, 250, 250, 250, 250], data: [250, 250, 250, 250, 250] });
    expect((result.text as string[])[1]).toBe(`2.1.5 <${alice.email}> delivered`);
    expect((await inbox(alice.accountId)).length).toBe(before.alice + 1);
    expect((await inbox(bob.accountId)).length).toBe(before.bob + 1);

    // The same on a raw socket, counting the lines after the final dot.
    const replies = await rawLmtp(listener.port, [alice.email, alice.email, "nobody@example.com", bob.email.toUpperCase()], "Subject: raw\r\n\r\nhi\r\n");
    expect(replies.rcpt).toEqual([250, 250, 550, 250]);
    expect(replies.data).toEqual([250, 250, 250]);
  });

  it("stores a header with a NUL in it safely instead of answering a temporary failure forever", async () => {
    const bytes = "From: pat@example.net\r\nSubject: Budget\u0000 2027\r\n\r\nNumbers.\r\n";
    const replies = await rawLmtp(listener.port, [alice.email], bytes);
    expect(replies.data).toEqual([250]);
    expect((await inbox(alice.accountId)).map((m) => m.subject)).toContain("Budget\uFFFD 2027");
  });

  it("refuses an oversized message with 552 for every RCPT while it streams, without holding it in memory", { timeout: 120_000 }, async () => {
    const small = await startLmtpListener({ store, port: 0, maxMessageBytes: 20 * 1024 * 1024 });
    try {
      const lhlo = await rawLmtp(small.port, [], "");
      expect(lhlo.lhlo).toContain(`SIZE ${20 * 1024 * 1024}`);
      const before = (await inbox(bob.accountId)).length;
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const start = process.memoryUsage().rss;
      const { stdout } = await promisify(execFile)("python3", ["-c", PYTHON, String(small.port), "big", `${bob.email},${bob.email}`], { maxBuffer: 1 << 20 });
      clearInterval(sampler);
      expect(JSON.parse(stdout)).toMatchObject({ rcpt: [250, 250], data: [552, 552] });
      expect((await inbox(bob.accountId)).length).toBe(before);
      // Reading it as it streams costs the listener far less than the 200 MB it would hold whole.
      expect((peak - start) / 1048576).toBeLessThan(120);
    } finally {
      await small.close();
    }
  });
});

/** One LMTP transaction on a plain socket: the codes of each RCPT and of each reply after the final dot. */
async function rawLmtp(port: number, rcpts: string[], message: string): Promise<{ lhlo: string; rcpt: number[]; data: number[] }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  let buffer = "";
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let cut;
    while ((cut = buffer.indexOf("\r\n")) >= 0) {
      lines.push(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
    wake?.();
  });
  const deadline = Date.now() + 60_000;
  /** The next complete reply (its last line has a space after the code). */
  const reply = async (): Promise<string[]> => {
    const out: string[] = [];
    for (;;) {
      while (lines.length) {
        const line = lines.shift()!;
        out.push(line);
        if (line[3] === " ") return out;
      }
      if (Date.now() > deadline) throw new Error(`no reply from the LMTP listener; got ${JSON.stringify(out)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000);
      });
    }
  };
  const send = (text: string) => new Promise<void>((resolve) => socket.write(text, () => resolve()));
  const code = (r: string[]) => Number(r.at(-1)!.slice(0, 3));
  try {
    await reply(); // banner
    await send("LHLO client.example\r\n");
    const lhlo = (await reply()).join("\n");
    if (!rcpts.length) return { lhlo, rcpt: [], data: [] };
    await send("MAIL FROM:<pat@example.net>\r\n");
    await reply();
    const rcpt: number[] = [];
    for (const r of rcpts) {
      await send(`RCPT TO:<${r}>\r\n`);
      rcpt.push(code(await reply()));
    }
    await send("DATA\r\n");
    await reply(); // 354
    await send(message.replace(/^\./gm, ".."));
    await send(`${message.endsWith("\r\n") ? "" : "\r\n"}.\r\n`);
    const data: number[] = [];
    for (let i = 0; i < rcpt.filter((c) => c === 250).length; i++) data.push(code(await reply()));
    await send("QUIT\r\n");
    return { lhlo, rcpt, data };
  } finally {
    socket.destroy();
  }
}
