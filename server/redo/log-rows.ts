/**
 * `mailstore.redo_log` rows as binary COPY sends them (`COPY (SELECT ${LOG_COLUMNS} ...) TO
 * STDOUT (FORMAT binary)`), turned into redo records, or into the metadata JSON a segment holds,
 * in Node. Postgres only sends the columns as they are stored: rendering each record's JSON there
 * (json_build_object, to_char) cost it three times as much as reading the rows, and the reader of
 * the current log and the archiver both waited on it.
 *
 * The JSON is the shape segments have always held, field for field: `at` in UTC to the
 * millisecond (cut, as to_char's MS cuts), `txid` as text, the payload as Postgres prints it.
 */
import { readFileSync } from "node:fs";
import type { BlobStore } from "../mailstore/blob-store.ts";
import type { RedoRecord } from "./segment-format.ts";

/** The columns, in the order `logRecords` and `logMetaJson` read them; the message bytes come last. */
export const LOG_COLUMNS = "seq, at, txid, mailbox_id, account_id, change_number, op, payload";

/**
 * Where a delivery's first record (the one that carries the message) keeps its bytes: in the
 * blob volume, named by the payload's digest. The log itself holds no message bytes (it did
 * before, and older rows may still: `blob`); the archiver copies them into the segment when it
 * seals the record. Other records carry nothing, or name the carrier (`blobSeq`).
 */
const VOLUME_DIGEST = "CASE WHEN blob IS NULL AND op = 'DeliverMessage' AND NOT payload ? 'blobSeq' THEN payload->>'digest' END";

/** The two columns after `LOG_COLUMNS` that say where a record's message bytes are (`messageBytes`, the archiver's segment writer). */
export const BYTES_COLUMNS = `blob, ${VOLUME_DIGEST}`;

/** A record's size in the archive (metadata and message bytes), as SQL over the log's columns. */
export const RECORD_SIZE = `octet_length(payload::text) + coalesce(octet_length(blob), CASE WHEN ${VOLUME_DIGEST} IS NOT NULL THEN (payload->>'size')::bigint ELSE 0 END)`;

/**
 * A row's message bytes (selected with `BYTES_COLUMNS`): those it holds, or the carrier's bytes
 * read from the blob volume (a plain read: a small file costs less than a trip through the
 * thread pool). null for a row that carries none, and for a blob the volume no longer has.
 */
export function messageBytes(row: (Buffer | null)[], blobs: BlobStore): Buffer | null {
  if (row[8]) return row[8];
  if (!row[9]) return null;
  try {
    return readFileSync(blobs.path(row[9].toString("utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Milliseconds from the Unix epoch to Postgres's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * A binary int8 as a number, in two 32-bit halves (BigInt costs a record more than all the rest
 * of its decoding). Exact below 2^53: sequence numbers, ids, change numbers and microsecond
 * times all are, by far.
 */
const int8 = (b: Buffer) => b.readInt32BE(0) * 4_294_967_296 + b.readUInt32BE(4);

const YEAR_10000_MS = 253_402_300_800_000;

/** The last minute `isoMillis` formatted: records read together fall within a few minutes. */
let minute = { start: Number.NaN, prefix: "" };

/**
 * A binary timestamptz (microseconds since 2000) as ISO 8601 UTC, cut to the millisecond as
 * to_char's MS cuts. Formatting a Date cost as much as parsing the record's payload, so the text
 * up to the minute is reused while the minute lasts.
 */
function isoMillis(b: Buffer): string {
  const ms = Math.floor(int8(b) / 1000) + PG_EPOCH_MS;
  if (ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString(); // outside 1970-9999: not worth a cache
  const start = ms - (ms % 60_000);
  if (start !== minute.start) minute = { start, prefix: new Date(start).toISOString().slice(0, 17) }; // "YYYY-MM-DDTHH:MM:"
  const rest = ms - start;
  const seconds = Math.floor(rest / 1000);
  const millis = rest % 1000;
  return `${minute.prefix}${seconds < 10 ? "0" : ""}${seconds}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

/** A binary xid8 (unsigned). */
const b8u = (b: Buffer) => b.readUInt32BE(0) * 4_294_967_296 + b.readUInt32BE(4);

/** The last account id `uuid` decoded: a restore reads one account's records, a seal runs of them. */
let lastUuid = { bytes: Buffer.alloc(0), text: "" };

function uuid(b: Buffer): string {
  if (b.equals(lastUuid.bytes)) return lastUuid.text;
  const h = b.toString("hex");
  lastUuid = { bytes: Buffer.from(b), text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
  return lastUuid.text;
}

/** A binary jsonb: a version byte (1), then the JSON text. */
function jsonbText(b: Buffer): string {
  if (b[0] !== 1) throw new Error(`redo payload in an unknown jsonb format (version ${b[0]})`);
  return b.toString("utf8", 1);
}

/** A record from its row, with the payload given (parsed apart: see logRecords). */
function recordOf(row: (Buffer | null)[], payload: RedoRecord["payload"]): RedoRecord {
  const [seq, at, txid, mailboxId, accountId, changeNumber, op] = row as Buffer[];
  return {
    seq: int8(seq!),
    at: isoMillis(at!),
    txid: String(b8u(txid!)),
    mailboxId: int8(mailboxId!),
    accountId: uuid(accountId!),
    changeNumber: int8(changeNumber!),
    op: op!.toString("utf8"),
    payload,
  };
}

/**
 * The records the rows hold, each with its message bytes when `bytes` finds some (`messageBytes`).
 * The payloads are parsed in one JSON.parse per batch (about a tenth less than one per record).
 */
export function logRecords(rows: (Buffer | null)[][], bytes?: (row: (Buffer | null)[]) => Buffer | null): RedoRecord[] {
  const payloads = JSON.parse(`[${rows.map((row) => jsonbText(row[7]!)).join(",")}]`) as RedoRecord["payload"][];
  // No rows parse to no values, so a mismatch has a first and a last row to name.
  if (payloads.length !== rows.length) throw new Error(`redo payloads of seq ${int8(rows[0]![0]!)} to ${int8(rows.at(-1)![0]!)}: ${payloads.length} values for ${rows.length} records`);
  return rows.map((row, i) => {
    const record = recordOf(row, payloads[i]!);
    const blob = bytes?.(row);
    if (blob) record.blob = blob;
    return record;
  });
}

const NO_PAYLOAD = Object.freeze({});

/** The row's metadata as the JSON text a segment holds (the payload's text is not parsed). */
export function logMetaJson(row: (Buffer | null)[]): string {
  const f = recordOf(row, NO_PAYLOAD);
  return (
    `{"seq":${f.seq},"at":"${f.at}","txid":"${f.txid}","mailboxId":${f.mailboxId},"accountId":"${f.accountId}",` +
    `"changeNumber":${f.changeNumber},"op":${JSON.stringify(f.op)},"payload":${jsonbText(row[7]!)}}`
  );
}
