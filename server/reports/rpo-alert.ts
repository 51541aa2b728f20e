/**
 * The RPO alert: a report mail when a server's RPO (redo-rpo.ts; the best target off the
 * machine, or the best at all when none is off it) goes above its `rpoAlertSeconds`, and one
 * when it is back under. The RPO is the age of the oldest record not shipped, so being above the
 * limit already means it stayed there that long. The last `rpo` row of the outbox is the state:
 * one mail per crossing, whichever worker sees it first: the check and the insert run under a
 * per-server advisory lock, since two workers' statements at once would both see no crossing yet.
 */
import { inConsoleTransaction } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { bestTarget, redoRpo } from "../redo/redo-rpo.ts";

export async function checkRpoAlert(server: Pick<ServerSummary, "name" | "settings">): Promise<"high" | "ok" | null> {
  if (server.settings.redoShipSeconds === 0) return null;
  const found = bestTarget(await redoRpo(server.name));
  if (!found) return null;
  const best = found.target;
  const state = best.rpoSeconds > server.settings.rpoAlertSeconds ? "high" : "ok";
  const detail =
    state === "high"
      ? `the newest ${best.rpoSeconds} s of mail (${best.unshippedRecords} records) are on no ${found.offMachine ? "other machine" : "target"} yet; the best target is ${best.name}${best.lastError ? `, whose shipping fails: ${best.lastError}` : ""}`
      : `${best.name} holds the redo through ${best.lastShippedSeq}; RPO now ${best.rpoSeconds} s`;
  // A crossing only: "high" when the last rpo row is not "high", "ok" only after a "high".
  const rowCount = await inConsoleTransaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`mailvault.rpo-alert:${server.name}`]);
    const { rowCount } = await client.query(
      `INSERT INTO report_outbox (server, kind, label, status, detail)
     SELECT $1, 'rpo', 'rpo', $2, $3
      WHERE coalesce((SELECT status FROM report_outbox WHERE server = $1 AND kind = 'rpo' ORDER BY id DESC LIMIT 1), 'ok') <> $2`,
      [server.name, state, detail],
    );
    return rowCount;
  });
  return rowCount ? state : null;
}
