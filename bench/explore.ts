/**
 * `npm run bench:explore [-- --messages 5000 --changes 500]`
 *
 * What reading a backup costs. In a database, Redis prefix and folder of its own (bench-env.ts):
 * one mailbox of `--messages` messages, backed up in full, then `--changes` flag changes. Then,
 * in the same run, each against a physical baseline:
 *   - opening the mailbox as the full holds it (a view: its rows restored into a hidden mailbox,
 *     by a worker) and at a point after the changes (the rows plus the redo replayed), against
 *     `COPY TO` + `COPY FROM` of the same item rows;
 *   - a page of a subject search and of a recipient search (headers read) on the view;
 *   - the Inbox as mbox, streamed, against reading the same bodies' files;
 *   - 100 messages restored into a Recovered folder.
 */
import { Command } from "commander";
import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { mboxStream, selectForDownload } from "../server/explore/download.ts";
import { exploreMessages } from "../server/explore/list-messages.ts";
import { restoreItems } from "../server/explore/restore-items.ts";
import { readySource } from "../server/explore/views.ts";
import { setFlags } from "../server/mailstore/item-operations.ts";
import { groupSchema } from "../server/mailstore/schema.ts";
import { bigMailbox } from "./big-mailbox.ts";
import { runBench, secondsSince } from "./bench-env.ts";
import { printRatioTable } from "./ratio-table.ts";
import { queueIdle, timedBackup } from "./timed-jobs.ts";

const opts = new Command("bench:explore")
  .option("--messages <n>", "messages in the mailbox", (v) => Number(v), 5000)
  .option("--changes <n>", "flag changes after the full backup", (v) => Number(v), 500)
  .parse()
  .opts<{ messages: number; changes: number }>();

await runBench("explore", async (env) => {
  const { store, big, ids } = await bigMailbox(env, { messages: opts.messages, seed: 17 });
  const { label } = (await timedBackup("mail1", "full")).session;
  for (let i = 0; i < opts.changes; i++) await setFlags(store, { accountId: big.accountId }, { itemIds: [ids[(i * 7919) % ids.length]!], flags: { flagged: i % 2 === 0 } });
  await queueIdle("mail1");
  const at = new Date().toISOString();

  // Baseline: the mailbox's item rows out and back in with COPY (binary), into a scratch table.
  const { rows: boxes } = await store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [big.accountId]);
  const items = `${groupSchema(boxes[0]!.group_id)}.item`;
  const client = await store.pool.connect();
  const t0 = performance.now();
  const chunks: Buffer[] = [];
  await pipeline(
    client.query(copyTo(`COPY (SELECT * FROM ${items} WHERE mailbox_id = ${boxes[0]!.id}) TO STDOUT`)),
    new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }),
  );
  await client.query(`CREATE TEMP TABLE bench_items (LIKE ${items})`);
  const sink = client.query(copyFrom("COPY bench_items FROM STDIN"));
  await pipeline(
    (async function* () {
      yield* chunks;
    })(),
    sink,
  );
  const copySeconds = secondsSince(t0);
  client.release();

  const open = async (point: { label?: string; at?: string }) => {
    const started = performance.now();
    for (;;) {
      const answer = await exploreMessages(big.accountId, { ...point, pageSize: 50 });
      if (!("state" in answer)) return { seconds: secondsSince(started), total: answer.total };
    }
  };
  const session = await open({ label });
  const point = await open({ at });
  const timed = async (input: Parameters<typeof exploreMessages>[1], runs = 5) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await exploreMessages(big.accountId, input);
      times.push(secondsSince(started));
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  };
  const subject = await timed({ label, subject: "re" });
  const recipient = await timed({ label, to: "nobody-at-all@" }, 3);

  const source = await readySource(big.accountId, { label });
  const selection = await selectForDownload(source, { format: "mbox", folder: "/Inbox" });
  const t1 = performance.now();
  let mboxBytes = 0;
  await pipeline(mboxStream(source, selection), new Writable({ write: (c: Buffer, _e, done) => ((mboxBytes += c.length), done()) }));
  const mboxSeconds = secondsSince(t1);
  const t2 = performance.now();
  for (const row of selection.rows) await readFile(store.blobs.path(row.blob_digest!));
  const readSeconds = secondsSince(t2);

  const t3 = performance.now();
  const restored = await restoreItems({ accountId: big.accountId, label, itemIds: ids.slice(0, 100) });
  const restoreSeconds = secondsSince(t3);
  if (!("copied" in restored) || restored.copied !== 100) throw new Error(`restored ${JSON.stringify(restored).slice(0, 200)}`);

  console.log(`big@example.com: ${opts.messages} messages (${session.total} in the session), ${opts.changes} changes after the full; ${selection.rows.length} in /Inbox, ${(mboxBytes / 1048576).toFixed(1)} MiB as mbox`);
  printRatioTable(`reading a backup of ${opts.messages} messages`, [
    { measure: "open the full's view / (COPY TO + COPY FROM of its rows)", kind: "ratio", measured: session.seconds, baseline: copySeconds },
    { measure: "open a point after the changes (rows + redo) / the same", kind: "ratio", measured: point.seconds, baseline: copySeconds },
    { measure: "/Inbox as mbox, streamed / reading its bodies' files", kind: "ratio", measured: mboxSeconds, baseline: readSeconds },
  ]);
  console.log(`search on the view, median: subject ${(subject * 1000).toFixed(0)} ms; recipient (headers of up to 2,000 messages read) ${(recipient * 1000).toFixed(0)} ms`);
  console.log(`100 messages restored into ${restored.into}: ${restoreSeconds.toFixed(2)} s (${(restoreSeconds * 10).toFixed(1)} ms each, with its redo record)`);
});
