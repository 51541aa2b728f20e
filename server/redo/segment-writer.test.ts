import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore, sha256 } from "../mailstore/blob-store.ts";
import { encodeHeader, encodeRawRecord, encodeTrailer, readSegment, SEGMENT_FORMAT, type SegmentHeader } from "./segment-format.ts";
import { SegmentWriter } from "./segment-writer.ts";

let dir: string;
let volume: BlobStore;
const kept = Buffer.from("Subject: in the volume\r\n\r\nbody\r\n");
const inline = Buffer.from("Subject: in the row\r\n\r\nolder rows hold their bytes\r\n");
const gone = sha256(Buffer.from("never stored"));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "segment-writer-"));
  volume = new BlobStore(path.join(dir, "volume"));
  await volume.put(kept);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const meta = (seq: number, payload: object) =>
  JSON.stringify({ seq, at: "2026-12-05T03:00:00.000Z", txid: "7", mailboxId: 1, accountId: "6f1c8a52-0000-4000-8000-000000000001", changeNumber: seq, op: "DeliverMessage", payload });

describe("the segment writer's thread", () => {
  it("writes the bytes encodeRawRecord frames, reading blobs from the volume, and names the one it lacks", async () => {
    const header: SegmentHeader = { server: "mail1", format: SEGMENT_FORMAT, firstSeq: 1, lastSeq: 4, firstAt: null, lastAt: null, recordCount: 4, voids: [], createdAt: "2026-12-05T03:00:00.000Z" };
    const records = [
      { meta: meta(1, { digest: sha256(kept) }), digest: sha256(kept) },
      { meta: meta(2, { digest: sha256(inline) }), blob: inline },
      { meta: meta(3, { digest: gone }), digest: gone },
      { meta: meta(4, { blobSeq: 1, subject: "Grüße ✓" }) }, // not ASCII: its length in bytes is not its text's
    ];
    const file = await open(path.join(dir, "seg"), "w");
    const writer = await SegmentWriter.open(file, header);
    await writer.append(records.slice(0, 1), volume.root);
    await writer.append(records.slice(1), volume.root);
    await writer.finish();
    await file.close();

    const framed = (i: number, blob: Buffer | null) => encodeRawRecord(Buffer.from(records[i]!.meta), blob);
    const body = Buffer.concat([encodeHeader(header), framed(0, kept), framed(1, inline), framed(2, null), framed(3, null)]);
    const expected = Buffer.concat([body, encodeTrailer(4, createHash("sha256").update(body).digest())]);
    const written = await readFile(path.join(dir, "seg"));
    expect(written.equals(expected)).toBe(true);
    expect(writer.blobsMissing).toEqual([gone]);
    expect(writer.bytes).toBe(expected.length);

    const read = await open(path.join(dir, "seg"), "r");
    const blobs: (string | undefined)[] = [];
    for await (const entry of readSegment("seg", read, { withBlobs: true })) if ("record" in entry) blobs.push(entry.record.blob?.toString());
    await read.close();
    expect(blobs).toEqual([kept.toString(), inline.toString(), undefined, undefined]);
  });

  it("frames a batch larger than the thread's frame buffer, and a message larger than all of it, byte for byte", async () => {
    // The thread frames into an 8 MiB buffer: these three 3 MiB messages overflow it, and the
    // 9 MiB one gets a buffer of its own.
    const messages = [3, 9, 3, 3].map((mib, i) => Buffer.alloc(mib << 20, `message ${i} `));
    for (const message of messages) await volume.put(message);
    const records = messages.map((message, i) => ({ meta: meta(i + 1, { digest: sha256(message) }), digest: sha256(message) }));
    const header: SegmentHeader = { server: "mail1", format: SEGMENT_FORMAT, firstSeq: 1, lastSeq: 4, firstAt: null, lastAt: null, recordCount: 4, voids: [], createdAt: "2026-12-05T03:00:00.000Z" };
    const file = await open(path.join(dir, "big"), "w");
    const writer = await SegmentWriter.open(file, header);
    await writer.append(records, volume.root);
    await writer.finish();
    await file.close();

    const body = Buffer.concat([encodeHeader(header), ...records.map((r, i) => encodeRawRecord(Buffer.from(r.meta), messages[i]!))]);
    const expected = Buffer.concat([body, encodeTrailer(4, createHash("sha256").update(body).digest())]);
    expect((await readFile(path.join(dir, "big"))).equals(expected)).toBe(true);
    expect(writer.blobsMissing).toEqual([]);
  });
});
