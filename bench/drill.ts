/**
 * `npm run bench:drill [-- --messages 5000 --changes 500]`
 *
 * What a restore drill costs, and the RTO it measures. In a database, Redis prefix and folder of
 * its own (bench-env.ts): one mailbox of `--messages` messages, backed up in full, `--changes`
 * flag changes and moves, a second full, as many changes again. Then, in the same run:
 *   - the restore a drill makes: the account into a copy at its latest state (the baseline);
 *   - a drill at the latest state: that restore into a scratch mailbox, the live mailbox read in
 *     one snapshot, every value compared, every body hashed on the volume and read back from the
 *     packs;
 *   - a drill at a random point: two independent restores (the newer full plus redo, the older
 *     full plus redo) and the same checks.
 * Prints each time and its parts, the drill's RTO per MiB, and the ratios drill / restore, where
 * the baseline restore takes the bodies from the volume as the drill's scratch restore does.
 */
import { Command } from "commander";
import { getDrill, submitDrill, type DrillView } from "../server/drill/submit-drill.ts";
import { moveItems, setFlags } from "../server/mailstore/item-operations.ts";
import { INBOX } from "../server/mailstore/items.ts";
import { createFolder } from "../server/mailstore/folder-operations.ts";
import { bigMailbox } from "./big-mailbox.ts";
import { runBench, secondsSince, until } from "./bench-env.ts";
import { queueIdle, timedBackup, timedRestore } from "./timed-jobs.ts";

const opts = new Command("bench:drill")
  .option("--messages <n>", "messages in the drilled mailbox", (v) => Number(v), 5000)
  .option("--changes <n>", "flag changes and moves after the full backup", (v) => Number(v), 500)
  .parse()
  .opts<{ messages: number; changes: number }>();

async function timedDrill(at: "latest" | "random"): Promise<{ seconds: number; drill: DrillView }> {
  const started = performance.now();
  const { label } = await submitDrill({ server: "mail1", accounts: ["big@example.com"], at, requestedBy: "bench" });
  const drill = await until(async () => {
    const d = await getDrill(label);
    return !["queued", "running"].includes(d.status) && d;
  }, 20);
  if (drill.status !== "passed") throw new Error(`${label} ${drill.status}: ${drill.summary}`);
  return { seconds: secondsSince(started), drill };
}

await runBench("drill", async (env) => {
  const { store, big, ids } = await bigMailbox(env, { messages: opts.messages, seed: 11 });
  const backup = await timedBackup("mail1", "full");
  const ref = { accountId: big.accountId };
  const { itemId: archive } = await createFolder(store, ref, { name: "Archive", parentId: INBOX });
  const change = async (from: number) => {
    for (let i = from; i < from + opts.changes; i++) {
      const id = ids[(i * 7919) % ids.length]!;
      if (i % 2) await setFlags(store, ref, { itemIds: [id], flags: { read: i % 4 === 1 } });
      else await moveItems(store, ref, { itemIds: [id], folderId: i % 4 === 0 ? archive : INBOX });
    }
  };
  await change(0);
  await timedBackup("mail1", "full");
  await change(opts.changes);
  await queueIdle("mail1");
  console.log(`big@example.com: ${opts.messages} messages, full backup in ${backup.seconds.toFixed(1)} s, ${opts.changes} changes, a second full, ${opts.changes} changes`);

  const restore = await timedRestore({ server: "mail1", accounts: [big.email], copy: true, prefix: "r1_" });
  await queueIdle("mail1");
  const latest = await timedDrill("latest");
  const random = await timedDrill("random");
  const parts = (d: DrillView) => {
    const e = d.evidence[0]!;
    return `restore ${(e.restoreMs / 1000).toFixed(2)} s, expected state ${(e.expectedMs / 1000).toFixed(2)} s, bodies read back ${(e.readBackMs / 1000).toFixed(2)} s; ${(e.bytes / 1048576).toFixed(1)} MiB, ${e.items} items`;
  };
  console.log(`restore into a copy (the baseline): ${restore.seconds.toFixed(2)} s`);
  console.log(`drill at the latest state:          ${latest.seconds.toFixed(2)} s = ${(latest.seconds / restore.seconds).toFixed(2)}x the restore (${parts(latest.drill)})`);
  const r = random.drill.evidence[0]!;
  console.log(`drill at a random point (redo ${r.point.seq}): ${random.seconds.toFixed(2)} s = ${(random.seconds / restore.seconds).toFixed(2)}x the restore (${parts(random.drill)}); compared with ${r.expected}${r.note ? `; ${r.note}` : ""}`);
  console.log(`measured RTO: ${latest.drill.rtoSecondsPerMib?.toFixed(3)} s per MiB (latest), ${random.drill.rtoSecondsPerMib?.toFixed(3)} s per MiB (random point)`);
});
