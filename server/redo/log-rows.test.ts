import { describe, expect, it } from "vitest";
import { logMetaJson, logRecords } from "./log-rows.ts";

/** Milliseconds from the Unix epoch to Postgres's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

const int8 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

/** A redo_log row as binary COPY sends `LOG_COLUMNS` and `BYTES_COLUMNS`, its time in microseconds since the Unix epoch. */
function row(seq: number, micros: bigint, accountId: string, op: string, payload: unknown, blob: Buffer | null = null): (Buffer | null)[] {
  return [
    int8(seq),
    int8(micros - BigInt(PG_EPOCH_MS) * 1000n),
    int8(4_000_000_000 + seq),
    int8(7),
    Buffer.from(accountId.replaceAll("-", ""), "hex"),
    int8(seq + 100),
    Buffer.from(op),
    Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(payload))]),
    blob,
    null,
  ];
}

const ALICE = "0a1b2c3d-0000-4000-8000-00000000000a";
const BOB = "0a1b2c3d-0000-4000-8000-00000000000b";

describe("logRecords", () => {
  it("gives each row's fields and payload, times cut to the millisecond in UTC", () => {
    // Times within a minute, across minutes and days, back and forth, and before 1970.
    const times = [
      1_780_000_000_123_456n, 1_780_000_000_999_999n, 1_780_000_059_000_001n, 1_780_000_060_000_000n, 1_780_000_000_000_000n,
      1_798_761_599_999_000n, 1_798_761_600_000_999n, 951_782_400_005_000n, -1_000_001n, 0n,
    ];
    const accounts = [ALICE, ALICE, BOB, ALICE, BOB, BOB, ALICE, ALICE, BOB, ALICE];
    const payloads = [{ itemIds: [256], set: 1, clear: 0 }, { name: "Reçus, \"2026\"", parentId: 1 }, {}, { itemIds: [] }, { a: [1, { b: null }] }, {}, {}, { x: "é" }, {}, { last: true }];
    const rows = times.map((t, i) => row(i + 1, t, accounts[i]!, i % 2 ? "SetFlags" : "CreateFolder", payloads[i], i === 3 ? Buffer.from("bytes") : null));
    const records = logRecords(rows, (r) => r[8] ?? null);
    expect(records).toEqual(
      times.map((t, i) => ({
        seq: i + 1,
        at: new Date(Number(t / 1000n) - (t < 0n && t % 1000n !== 0n ? 1 : 0)).toISOString(),
        txid: String(4_000_000_000 + i + 1),
        mailboxId: 7,
        accountId: accounts[i],
        changeNumber: i + 101,
        op: i % 2 ? "SetFlags" : "CreateFolder",
        payload: payloads[i],
        ...(i === 3 ? { blob: Buffer.from("bytes") } : {}),
      })),
    );
    expect(records.map((r) => r.at).slice(0, 4)).toEqual(["2026-05-28T20:26:40.123Z", "2026-05-28T20:26:40.999Z", "2026-05-28T20:27:39.000Z", "2026-05-28T20:27:40.000Z"]);
  });

  it("gives the minute before 1970 right after a time in 1970's first minute, and milliseconds under 100", () => {
    const times = [5_000n, -1_000n, 59_999_000n, 1_780_000_000_042_000n, 1_780_000_000_007_999n];
    const records = logRecords(times.map((t, i) => row(i + 1, t, ALICE, "SetFlags", {})));
    expect(records.map((r) => r.at)).toEqual(["1970-01-01T00:00:00.005Z", "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:59.999Z", "2026-05-28T20:26:40.042Z", "2026-05-28T20:26:40.007Z"]);
  });

  it("writes the same time and account into a segment's metadata", () => {
    const r = row(5, 1_780_000_000_123_456n, BOB, "MoveItems", { itemIds: [300], folderId: 2 });
    expect(JSON.parse(logMetaJson(r).toString())).toEqual({
      seq: 5, at: "2026-05-28T20:26:40.123Z", txid: "4000000005", mailboxId: 7, accountId: BOB, changeNumber: 105, op: "MoveItems", payload: { itemIds: [300], folderId: 2 },
    });
  });

  it("refuses a batch whose payloads do not parse to one value per record", () => {
    const rows = [row(1, 0n, ALICE, "SetFlags", {}), row(2, 0n, ALICE, "SetFlags", {})];
    rows[1]![7] = Buffer.concat([Buffer.from([1]), Buffer.from("{},{}")]);
    expect(() => logRecords(rows)).toThrow("redo payloads of seq 1 to 2: 3 values for 2 records");
  });

  it("reads no rows as no records", () => {
    expect(logRecords([])).toEqual([]);
  });
});
