import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { compress, decompress } from "@mongodb-js/zstd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore, sha256 } from "../mailstore/blob-store.ts";
import { BlobIo } from "./blob-io.ts";

let dir: string;
let volume: BlobStore;
const io = new BlobIo(2);
const text = Buffer.from("Subject: hello\r\n\r\n" + "the same line again\r\n".repeat(200));
const noise = randomBytes(4000); // does not compress

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "blob-io-"));
  volume = new BlobStore(path.join(dir, "volume"));
  await volume.put(text);
  await volume.put(noise);
});

afterAll(async () => {
  await io.close();
  await rm(dir, { recursive: true, force: true });
});

describe("blob I/O threads", () => {
  it("read blobs, compress those that shrink, and name the missing and the wrong", async () => {
    const wrongName = sha256(Buffer.from("something else"));
    await volume.put(text, wrongName, { knownAbsent: true });
    const absent = sha256(Buffer.from("never stored"));
    const result = await io.run("pack", { root: volume.root, digests: [sha256(text), sha256(noise), absent, wrongName], compress: true });
    expect(result.missing).toEqual([absent]);
    expect(result.mismatched).toEqual([{ digest: wrongName, actual: sha256(text) }]);
    const [first, second] = result.blobs;
    expect(first).toMatchObject({ digest: sha256(text), compression: "zstd", rawLength: text.length });
    expect(first!.stored.length).toBeLessThan(text.length / 2);
    expect((await decompress(Buffer.from(first!.stored))).equals(text)).toBe(true);
    expect(second).toMatchObject({ digest: sha256(noise), compression: "none" });
    expect(Buffer.from(second!.stored).equals(noise)).toBe(true);
  });

  it("write checked blobs into a volume, and refuse a damaged one without writing it", async () => {
    const stored = (await io.run("pack", { root: volume.root, digests: [sha256(text), sha256(noise)], compress: true })).blobs;
    const span = Buffer.concat(stored.map((b) => Buffer.from(b.stored)));
    let offset = 0;
    const blobs = stored.map((b) => ({ digest: b.digest, offset: (offset += b.stored.length) - b.stored.length, length: b.stored.length, rawLength: b.rawLength, compression: b.compression }));
    // The span is moved to the thread that unpacks it: keep a damaged copy made beforehand.
    const damaged = Buffer.from(span);
    damaged[blobs[1]!.offset + 100]! ^= 0x01;
    const copy = new BlobStore(path.join(dir, "copy"));
    expect(await io.run("absent", { root: copy.root, digests: [sha256(text), sha256(noise)] })).toEqual([sha256(text), sha256(noise)]);
    const before = Buffer.from(span);
    const unpacked = await io.run("unpack", { root: copy.root, span, blobs });
    expect({ written: unpacked.written, damaged: unpacked.damaged }).toEqual({ written: 2, damaged: [] });
    // The span comes back whole (moved, when it owns its memory: the main thread's collector frees it).
    expect(Buffer.from(unpacked.span).equals(before)).toBe(true);
    expect((await readFile(copy.path(sha256(text)))).equals(text)).toBe(true);
    expect((await readFile(copy.path(sha256(noise)))).equals(noise)).toBe(true);
    expect(await io.run("absent", { root: copy.root, digests: [sha256(text), sha256(noise)] })).toEqual([]);

    const other = new BlobStore(path.join(dir, "other"));
    const result = await io.run("unpack", { root: other.root, span: damaged, blobs });
    expect(result.written).toBe(1);
    expect(result.damaged).toEqual([{ digest: sha256(noise), detail: `blob ${sha256(noise)} does not match its digest` }]);
    expect(await other.has(sha256(noise))).toBe(false);
    // No temporary file is left behind either.
    const folder = path.dirname(other.path(sha256(text)));
    expect((await readdir(folder)).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  });

  it("write blobs stored with gzip by older versions, and name one whose compressed bytes are damaged", async () => {
    const old = gzipSync(text, { level: 1 });
    const other = Buffer.concat([text, Buffer.from("and one more line\r\n")]);
    const broken = await compress(other, 1);
    broken[Math.floor(broken.length / 2)]! ^= 0xff;
    const blobs = [
      { digest: sha256(text), offset: 0, length: old.length, rawLength: text.length, compression: "gzip" as const },
      { digest: sha256(other), offset: old.length, length: broken.length, rawLength: other.length, compression: "zstd" as const },
    ];
    const copy = new BlobStore(path.join(dir, "from-gzip"));
    const result = await io.run("unpack", { root: copy.root, span: Buffer.concat([old, broken]), blobs });
    expect(result.written).toBe(1);
    expect(result.damaged).toHaveLength(1);
    expect(result.damaged[0]!.detail).toMatch(new RegExp(`blob ${sha256(other)} (cannot be decompressed|does not match its digest)`));
    expect((await readFile(copy.path(sha256(text)))).equals(text)).toBe(true);
  });
});
