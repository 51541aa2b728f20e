/**
 * Reads PostgreSQL's binary COPY format: `COPY (...) TO STDOUT (FORMAT binary)` sends bytea
 * columns as raw bytes (no hex text to decode), which is how the redo archiver reads message
 * bytes out of the log at close to disk speed. Yields each row as its fields' raw bytes
 * (null for SQL NULL); the caller knows the column types. Chunks are joined only once a row is
 * known to be complete, so a large value spanning many chunks is copied once.
 * `binaryCopyRowBatches` yields the rows each chunk completes as one array: a reader of many
 * small rows then pays one await per chunk instead of one per row.
 */
import type { Readable } from "node:stream";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

export async function* binaryCopyRows(stream: Readable): AsyncGenerator<(Buffer | null)[]> {
  for await (const rows of binaryCopyRowBatches(stream)) yield* rows;
}

export async function* binaryCopyRowBatches(stream: Readable): AsyncGenerator<(Buffer | null)[][]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let need = 19; // the header first
  let headerDone = false;
  for await (const chunk of stream) {
    pending.push(chunk as Buffer);
    pendingBytes += (chunk as Buffer).length;
    if (pendingBytes < need) continue;
    const buffer: Buffer = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    let offset = 0;
    need = 0;
    if (!headerDone) {
      if (!buffer.subarray(0, 11).equals(SIGNATURE)) throw new Error("not a binary COPY stream");
      const extension = buffer.readUInt32BE(15);
      if (buffer.length < 19 + extension) need = 19 + extension;
      else {
        offset = 19 + extension;
        headerDone = true;
      }
    }
    const rows: (Buffer | null)[][] = [];
    while (headerDone && need === 0) {
      if (buffer.length - offset < 2) {
        need = 2;
        break;
      }
      const fields = buffer.readInt16BE(offset);
      if (fields === -1) {
        // the trailer
        if (rows.length) yield rows;
        return;
      }
      let cursor = offset + 2;
      const row: (Buffer | null)[] = [];
      for (let i = 0; i < fields; i++) {
        if (buffer.length - cursor < 4) {
          need = cursor + 4 - offset;
          break;
        }
        const length = buffer.readInt32BE(cursor);
        if (length === -1) {
          row.push(null);
          cursor += 4;
          continue;
        }
        if (buffer.length - cursor - 4 < length) {
          need = cursor + 4 + length - offset;
          break;
        }
        row.push(buffer.subarray(cursor + 4, cursor + 4 + length));
        cursor += 4 + length;
      }
      if (need > 0) break;
      rows.push(row);
      offset = cursor;
    }
    if (rows.length) yield rows;
    const rest = buffer.subarray(offset);
    pending = rest.length ? [rest] : [];
    pendingBytes = rest.length;
  }
  if (pendingBytes > 0) throw new Error("binary COPY stream ended inside a row");
}
