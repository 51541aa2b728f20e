/**
 * A snapshot's COPY rows (text format) on their way into the restored mailbox. Each row's first
 * column, the mailbox id, becomes the target mailbox's. For the items table, the first run of
 * redo records can be folded in as well (`SnapshotFold`): a row the run changes goes in as the
 * run leaves it, and a row the run deletes does not go in. The run then writes neither again,
 * which saves an UPDATE that costs Postgres about four times what loading the row did.
 *
 * A row the fold changes is rewritten as the run's UPDATE would have left it (replay.ts,
 * `ReplayBatch.flush`): flags `(flags & ~clear) | set`, the folder of a message or contact (the
 * parent of a folder) it last went to, a new name or contact fields, the change number of the
 * last record that touched it.
 */
import { Transform } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ItemChange, SnapshotFold } from "./replay.ts";

/** The rows the fold changed or left out (`dropped` of them left out), and its time (counted as replay, not as loading). */
export interface FoldStats {
  rows: number;
  dropped: number;
  ms: number;
}

/** The columns a fold rewrites, by name; a dump that lacks one (an older format) is loaded as it is. */
const FOLDED = ["id", "type", "flags", "folder_id", "parent_id", "name", "metadata", "change_number"] as const;
type Positions = Record<(typeof FOLDED)[number], number>;

function positionsIn(columns: string[]): Positions | null {
  const positions = {} as Positions;
  for (const name of FOLDED) {
    const at = columns.indexOf(name);
    if (at < 0 || (name === "id" && at === 0)) return null;
    positions[name] = at;
  }
  return positions;
}

/** A value as COPY's text format writes it. */
export function copyText(value: string | null): string {
  if (value === null) return "\\N";
  return value.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"));
}

/** The row with the change made, its fields split at tabs (a tab inside a value is escaped). */
function changedRow(fields: string[], at: Positions, change: ItemChange): string {
  const isFolder = fields[at.type] === "folder";
  fields[at.flags] = String((Number(fields[at.flags]) & ~change.clear) | change.set);
  if (change.to !== null) fields[isFolder ? at.parent_id : at.folder_id] = String(change.to);
  if (change.name !== null) fields[at.name] = copyText(change.name);
  if (change.metadata !== null) fields[at.metadata] = copyText(change.metadata);
  fields[at.change_number] = String(change.changeNumber);
  return fields.join("\t");
}

/**
 * The transform for one table's dump: `columns` in the dump's order (the mailbox id first), and
 * the fold for the items table (null for tombstones, or when there is nothing to fold).
 */
export function snapshotRows(mailboxId: number, columns: string[], fold: SnapshotFold | null, stats: FoldStats = { rows: 0, dropped: 0, ms: 0 }): Transform {
  const at = fold ? positionsIn(columns) : null;
  const prefix = String(mailboxId);
  const row = (line: string): string | null => {
    const afterMailbox = line.indexOf("\t");
    if (at) {
      // The id field, found by its tabs; only a row the run touches is split and rewritten.
      let start = afterMailbox + 1;
      for (let i = 1; i < at.id; i++) start = line.indexOf("\t", start) + 1;
      const end = line.indexOf("\t", start);
      const taken = fold!(Number(line.slice(start, end < 0 ? undefined : end)));
      if (taken !== undefined) {
        const started = performance.now();
        const out = taken === "deleted" ? null : changedRow(`${prefix}${line.slice(afterMailbox)}`.split("\t"), at, taken);
        stats.rows++;
        if (out === null) stats.dropped++;
        stats.ms += performance.now() - started;
        return out;
      }
    }
    return `${prefix}${line.slice(afterMailbox)}`;
  };
  // A character split between two chunks is held back by the decoder until its last byte comes.
  const decoder = new StringDecoder("utf8");
  let rest = "";
  const rows = (lines: string[]) => {
    let out = "";
    for (const line of lines) {
      const r = row(line);
      if (r !== null) out += `${r}\n`;
    }
    return out;
  };
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      const lines = (rest + decoder.write(chunk)).split("\n");
      rest = lines.pop()!;
      done(null, rows(lines));
    },
    flush(done) {
      rest += decoder.end();
      done(null, rest ? rows([rest]) : "");
    },
  });
}
