/**
 * `npm run bench:ship [-- --ops 8000 --ship-seconds 5 --rounds 2 --s3]`
 *
 * Redo shipping at the write rate of `bench:write`: the same seeded traffic on identical fresh
 * mailstores, with the archiver running as the worker runs it (every archiveCheckIntervalMs) and
 * shipping off (redoShipSeconds 0: it seals at the 60 s age limit) or on, alternating rounds.
 * Prints:
 *   - the shipping lag of every record: from its commit to the end of the save that put its
 *     segment on every target (p50, p95, max; must: p95 <= ship interval + 5 s);
 *   - the write-path cost of shipping: operations per second off / on, per round and the median
 *     (must: <= 1.05x; aim <= 1.02x).
 * The target is a folder on this disk (and with --s3 also a bucket on s3rver, in a process of its
 * own but on the same two cores, which makes the cost an upper bound).
 */
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { consolePool } from "../server/db/console-db.ts";
import { generateTraffic } from "../server/demo/generate-traffic.ts";
import { seedDemo } from "../server/demo/seed-demo.ts";
import { getServer } from "../server/directory/list-servers.ts";
import { parseServerSettings } from "../server/directory/server-settings.ts";
import { ensureMailboxes } from "../server/mailstore/account-operations.ts";
import { createMailstore } from "../server/mailstore/mailstore.ts";
import { ensureMailstore } from "../server/mailstore/schema.ts";
import { archiveRedo } from "../server/redo/archive-redo.ts";
import { archiveCheckIntervalMs } from "../server/redo/archive-server-redo.ts";
import { readSegment } from "../server/redo/segment-format.ts";
import { forgetShipState, shipRedo } from "../server/redo/ship-redo.ts";
import { closeRepositories } from "../server/backup/target.ts";
import { startS3Process } from "./s3-process.ts";
import { median, runBench } from "./bench-env.ts";

const opts = new Command("bench:ship")
  .option("--ops <n>", "operations per round", (v) => Number(v), 8000)
  .option("--mailboxes <n>", "mailboxes on the benchmark server", (v) => Number(v), 150)
  .option("--rounds <n>", "rounds of (shipping off, shipping on)", (v) => Number(v), 2)
  .option("--concurrency <n>", "operations at once", (v) => Number(v), 4)
  .option("--ship-seconds <n>", "the ship interval (redoShipSeconds)", (v) => Number(v), 5)
  .option("--s3", "also ship to a bucket on s3rver")
  .parse()
  .opts<{ ops: number; mailboxes: number; rounds: number; concurrency: number; shipSeconds: number; s3?: boolean }>();

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

await runBench("bench:ship", async (env) => {
  await seedDemo({ accounts: Math.ceil((opts.mailboxes * 5) / 3), formerNames: 0, dataDir: env.dataDir, consoleDatabase: env.consoleDatabase });
  const s3 = opts.s3 ? await startS3Process(["bench-ship"]) : null;
  if (s3) env.defer(() => s3.stop());
  env.defer(() => closeRepositories());
  const rates: Record<"off" | "on", number[]> = { off: [], on: [] };
  const lags: number[] = [];

  for (let round = 0; round < opts.rounds; round++) {
    for (const on of [false, true]) {
      const base = await getServer("mail1");
      const database = `${env.consoleDatabase}_r${round}_${on ? "on" : "off"}`;
      await ensureMailstore({ server: "mail1", database, groups: 8 });
      const folder = path.join(env.dataDir, `round-${round}-${on ? "on" : "off"}`);
      const archive = path.join(folder, "archive");
      await mkdir(archive, { recursive: true });
      const store = await createMailstore({ name: "mail1", mailstoreDatabase: database, blobVolumePath: path.join(folder, "blobs"), redoArchivePath: archive }, { redo: true, poolSize: opts.concurrency + 3 });
      env.defer(() => store.pool.end());
      await ensureMailboxes(store);
      const settings = parseServerSettings({
        ...base.settings,
        redoShipSeconds: on ? opts.shipSeconds : 0,
        copyTargets: s3 ? [{ name: "bucket", url: s3.url("bench-ship", `r${round}`) }] : [],
      });
      const server = { name: "mail1", backupTarget: path.join(folder, "target"), settings, redoArchivePath: archive };
      // A fresh floor per round: the sequence starts again in each fresh mailstore.
      await consolePool().query("DELETE FROM redo_ship");
      forgetShipState();

      // The worker's loop: archive at the server's limits, then ship what is sealed.
      let running = true;
      const shippedAt = new Map<string, number>();
      const loop = (async () => {
        while (running) {
          const maxAge = on ? Math.min(settings.redoArchive.maxAgeSeconds, settings.redoShipSeconds) : settings.redoArchive.maxAgeSeconds;
          await archiveRedo(store, { maxBytes: settings.redoArchive.maxBytes, maxAgeSeconds: maxAge });
          if (on) {
            const results = await shipRedo(server);
            const done = Date.now();
            for (const name of results.flatMap((r) => r.shipped)) shippedAt.set(name, Math.max(shippedAt.get(name) ?? 0, done));
          }
          await new Promise((r) => setTimeout(r, archiveCheckIntervalMs(settings)));
        }
      })();
      const result = await generateTraffic(store, { ops: opts.ops, seed: 42, concurrency: opts.concurrency, renames: false });
      const rate = result.ops / result.seconds;
      rates[on ? "on" : "off"].push(rate);
      if (on) {
        // Until the last record has shipped, without forcing: every record waits as it would.
        const { rows } = await store.pool.query<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM mailstore.redo_log");
        const last = Number(rows[0]!.seq);
        for (;;) {
          const { rows: shipped } = await consolePool().query<{ seq: string }>("SELECT min(last_shipped_seq)::text AS seq FROM redo_ship");
          if (Number(shipped[0]?.seq ?? 0) >= last) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      running = false;
      await loop;
      if (on) {
        for (const [name, at] of shippedAt) {
          const file = await open(path.join(archive, name), "r");
          for await (const entry of readSegment(name, file)) if ("record" in entry) lags.push((at - Date.parse(entry.record.at)) / 1000);
          await file.close();
        }
      }
      console.log(`round ${round + 1}, shipping ${on ? `on (${opts.shipSeconds} s)` : "off"}: ${result.ops} ops in ${result.seconds.toFixed(1)} s = ${rate.toFixed(0)} ops/s${on ? `, ${shippedAt.size} segments shipped` : ""}`);
    }
  }

  const sorted = [...lags].sort((a, b) => a - b);
  console.log(
    `\nshipping lag over ${sorted.length} records (commit to on every target): p50 ${percentile(sorted, 50).toFixed(1)} s, p95 ${percentile(sorted, 95).toFixed(1)} s, max ${(sorted.at(-1) ?? 0).toFixed(1)} s (must: p95 <= ${opts.shipSeconds + 5} s)`,
  );
  const perRound = rates.on.map((on, i) => rates.off[i]! / on);
  console.log(`write-path cost of shipping (ops/s off / on): ${perRound.map((r) => `${r.toFixed(3)}x`).join(", ")}; median ${median(perRound).toFixed(3)}x (must <= 1.05x, aim <= 1.02x)`);
});
