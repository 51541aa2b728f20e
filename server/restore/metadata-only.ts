/**
 * Restores from a metadata-only full (backup --exclude-blobs, Zimbra's zimbraBackupSkipBlobs):
 * the session names each message body (blobs.txt) but the target holds none, so the bodies must
 * be on the blob volume. A plan that needs one that is not there is refused with the count and
 * the way out; one whose bodies are all there says where they come from.
 */
import { targetHolding } from "../backup/server-targets.ts";
import { getServer } from "../directory/list-servers.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { absentDigests } from "../repository/blob-io.ts";
import type { PlanSession, RestorePlan } from "./plan-restore.ts";

/** The bodies a metadata-only snapshot names that the server's blob volume lacks, per account. */
export async function bodiesMissingFromVolume(serverName: string, plan: RestorePlan, sessions: Pick<PlanSession, "label" | "excludeBlobs">[]): Promise<{ refusals: string[]; warnings: string[] }> {
  const metadataOnly = new Set(sessions.filter((s) => s.excludeBlobs).map((s) => s.label));
  const refusals: string[] = [];
  const warnings: string[] = [];
  const accounts = plan.accounts.filter((a) => a.snapshot && metadataOnly.has(a.snapshot.session));
  if (accounts.length === 0) return { refusals, warnings };
  const server = await getServer(serverName);
  const store = await openMailstore(server.name);
  for (const a of accounts) {
    const session = a.snapshot!.session;
    const target = await targetHolding(server, [session], { required: true });
    const digests = (await target.readSessionFile(session, `accounts/${a.accountId}/blobs.txt`)).toString("utf8").split("\n").filter(Boolean);
    const absent = (await absentDigests(store.blobs.root, digests)).length;
    if (absent) {
      refusals.push(
        `${a.requested}: ${session} holds metadata only (backup --exclude-blobs), and ${absent} of the ${digests.length} message bodies it needs are not on the blob volume: restore from a full that holds them (-lb <label>), or put the bodies back on the volume first`,
      );
    } else if (digests.length) warnings.push(`${a.requested}: ${session} holds metadata only (backup --exclude-blobs); its ${digests.length} message bodies come from the blob volume, where they all are`);
  }
  return { refusals, warnings };
}
