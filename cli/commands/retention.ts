import { applyRetention } from "../../server/backup/apply-retention.ts";
import { printJson } from "../output.ts";

export async function runRetention(server: string, rule: string, options: { planOnly: boolean; json: boolean; requestedBy: string }): Promise<void> {
  const result = await applyRetention(server, rule, { planOnly: options.planOnly });
  if (options.json) return printJson(result);
  console.log(`cutoff ${result.plan.cutoff}`);
  for (const r of result.plan.remove) console.log(`delete  ${r.label}  (${r.reason})`);
  for (const k of result.plan.keep) console.log(`keep    ${k.label}  (${k.reason})`);
  if (result.applied) console.log(`deleted ${result.removed.length} session(s); pruned ${result.blobsPruned} blob(s), ${(result.bytesFreed / 1048576).toFixed(1)} MiB freed`);
  else if (options.planOnly) console.log("plan only: nothing deleted");
  else console.log("nothing to delete");
}
