/** How a deletion entry becomes a restore point, the same on every page that lists deletions. */
import { formatDate } from "./ui";

/** The wizard, opened at the point just before a recorded change (a deletion entry, or any operation). */
export function restoreBeforeHref(d: { accountId: string; seq: number; op: string; at: string; justBefore?: string }): string {
  const note = d.justBefore ?? `${formatDate(d.at)}, just before ${d.op} (redo ${d.seq})`;
  const at = new Date(Date.parse(d.at) - 1).toISOString();
  return `/restore?${new URLSearchParams({ account: d.accountId, seq: String(d.seq - 1), note, at })}`;
}
