/**
 * A drill's verdict on one mailbox: every stored value of the restored copy against the expected
 * one (stored-rows.ts: ids, folders, flags, tags, blob digests, dates to the microsecond, change
 * numbers, tombstones), as the first differences in words an admin can check by hand.
 */
import type { StoredItem, StoredRows } from "../restore/stored-rows.ts";

const COMPARED: (keyof StoredItem)[] = ["type", "parent_id", "folder_id", "date", "size", "blob_digest", "flags", "tags", "sender", "subject", "name", "metadata", "change_number"];

function describe(item: StoredItem): string {
  const what = item.type === "message" ? `message "${item.subject ?? ""}"` : item.type === "folder" ? `folder "${item.name ?? ""}"` : item.type;
  return `item ${item.id} (${what})`;
}

/** Up to `limit` differences; empty when the two are the same, value for value. */
export function mailboxDifferences(expected: StoredRows, restored: StoredRows, limit = 10): string[] {
  const out: string[] = [];
  const got = new Map(restored.items.map((i) => [String(i.id), i]));
  const wanted = new Map(expected.items.map((i) => [String(i.id), i]));
  for (const [id, e] of wanted) {
    if (out.length >= limit) return out;
    const r = got.get(id);
    if (!r) {
      out.push(`${describe(e)} is missing from the restore`);
      continue;
    }
    const field = COMPARED.find((f) => String(e[f]) !== String(r[f]));
    if (field) out.push(`${describe(e)}: ${field} is ${String(r[field])} in the restore, ${String(e[field])} expected`);
  }
  for (const [id, r] of got) {
    if (out.length >= limit) return out;
    if (!wanted.has(id)) out.push(`${describe(r)} is in the restore but not expected`);
  }
  const tombstones = (rows: StoredRows) => rows.tombstones.map((t) => `${t.item_id}:${t.type}:${t.change_number}`).join(",");
  if (out.length < limit && tombstones(expected) !== tombstones(restored)) {
    out.push(`deletion records differ: ${restored.tombstones.length} in the restore, ${expected.tombstones.length} expected`);
  }
  return out;
}
