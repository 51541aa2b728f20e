/**
 * The thread side of blob-io.ts: blob-volume file work done with synchronous system calls, off
 * the main thread. A promise-based fs call costs a trip through libuv's thread pool and the event
 * loop; for small files that trip costs more than the read or write itself, and tar, which makes
 * the plain calls, is twice as fast. Each request is a batch, so messages are few.
 *
 * Plain JavaScript on purpose: a worker thread is started from a file, and this one must load
 * the same way under tsx, vitest and Node, with nothing to compile.
 *
 *   pack     { root, digests, compress }       read each blob, check it against its name,
 *                                              compress it (zstd level 1, in libuv's pool, the
 *                                              chunk's blobs at once) when that saves a tenth
 *   absent   { root, digests }                 the digests the volume has no file for
 *   hash     { parts }                         the SHA-256 of the parts in order (a pack's name);
 *                                              the parts are moved back
 *   unpack   { root, span, blobs }             blobs stored in `span` (a range of a pack):
 *                                              decompress (gzip or zstd), check, write each into the volume
 *                                              (temporary name, then rename; no sync: the
 *                                              caller syncs the volume once); the span is
 *                                              moved back
 *   segmentOpen/Append/Close/Abort             a redo segment written by this thread: its
 *                                              header, then records (metadata JSON with the
 *                                              message bytes, given or read from the volume
 *                                              by digest), framed and hashed as they are
 *                                              written; Close gives the trailer's digest
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeSync, writevSync } from "node:fs";
import path from "node:path";
import { parentPort } from "node:worker_threads";
import { crc32 } from "node:zlib";
import { compressed, inflate } from "./blob-codec.mjs";
import { requestQueue } from "./request-queue.mjs";

const made = new Set();

function blobPath(root, digest) {
  return path.join(root, digest.slice(0, 2), digest.slice(2, 4), digest);
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads and checks the chunk's blobs one by one, then compresses them all at once (libuv's pool works on both cores). */
async function pack({ root, digests, compress }) {
  const read = [];
  const missing = [];
  const mismatched = [];
  for (const digest of digests) {
    let bytes;
    try {
      bytes = readFileSync(blobPath(root, digest));
    } catch (error) {
      if (error.code === "ENOENT") {
        missing.push(digest);
        continue;
      }
      throw error;
    }
    const actual = sha256(bytes);
    if (actual !== digest) {
      mismatched.push({ digest, actual });
      continue;
    }
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) throw new Error(`blob ${digest} starts with gzip's magic bytes; a message never does`);
    read.push({ digest, bytes });
  }
  const blobs = await Promise.all(
    read.map(async ({ digest, bytes }) => {
      const packed = compress ? await compressed(bytes) : null;
      return { digest, stored: packed ?? bytes, rawLength: bytes.length, compression: packed ? "zstd" : "none" };
    }),
  );
  return { blobs, missing, mismatched };
}

function absent({ root, digests }) {
  return digests.filter((digest) => !existsSync(blobPath(root, digest)));
}

/** Temporary names: random per thread, then counted (a random draw per blob showed in profiles). */
const TEMP_PREFIX = randomBytes(6).toString("hex");
let tempCount = 0;

function writeBlob(root, digest, bytes) {
  const target = blobPath(root, digest);
  const dir = path.dirname(target);
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  }
  const temp = path.join(dir, `.tmp-${digest.slice(0, 8)}-${TEMP_PREFIX}${(tempCount++).toString(36)}`);
  let fd;
  try {
    fd = openSync(temp, "wx");
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
    mkdirSync(dir, { recursive: true }); // the folder went away (a volume being rebuilt)
    fd = openSync(temp, "wx");
  }
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
}

/** Blobs of a span being decompressed at once, ahead of the one being written. */
const INFLATE_AHEAD = 2;

async function unpack({ root, span, blobs }) {
  const bytes = Buffer.from(span.buffer, span.byteOffset, span.byteLength);
  const damaged = [];
  let written = 0;
  // The codec works two blobs ahead, and each is checked and written in order. With a whole
  // span's blobs decompressed at once, a restore of 100,000 blobs peaked at 661 MiB.
  const inflating = [];
  const start = (i) => {
    if (i >= blobs.length) return;
    const blob = blobs[i];
    inflating[i] = inflate(blob.compression, bytes.subarray(blob.offset, blob.offset + blob.length));
    inflating[i].catch(() => {}); // awaited below, in order
  };
  for (let i = 0; i < INFLATE_AHEAD; i++) start(i);
  for (const [i, blob] of blobs.entries()) {
    start(i + INFLATE_AHEAD);
    const pending = inflating[i];
    inflating[i] = undefined; // a settled promise would keep the raw bytes to the end of the span
    let raw;
    try {
      raw = await pending;
    } catch (error) {
      damaged.push({ digest: blob.digest, detail: `blob ${blob.digest} cannot be decompressed: ${error.message}` });
      continue;
    }
    if (raw.length !== blob.rawLength || sha256(raw) !== blob.digest) {
      damaged.push({ digest: blob.digest, detail: `blob ${blob.digest} does not match its digest` });
      continue;
    }
    writeBlob(root, blob.digest, raw);
    written++;
  }
  // The span goes back to the main thread, which allocated it. Garbage here, it would wait for
  // this thread's collector, which runs rarely: a 100,000-blob restore's worker held about ten
  // spent 16 MiB spans (its RSS passed 512 MiB). The main thread's collector runs often.
  return { written, damaged, span };
}

/**
 * Redo segments being written, by id: each is written by one thread from its header to its last
 * record, the SHA-256 of everything written kept as it goes (see segment-format.ts).
 */
const segments = new Map();
let nextSegment = 1;

/** Writes every byte of `parts` at `position` (writev takes at most IOV_MAX buffers at once). */
function writeAll(fd, parts, position) {
  for (let i = 0; i < parts.length; i += 512) {
    const group = parts.slice(i, i + 512);
    const total = group.reduce((sum, b) => sum + b.length, 0);
    const written = writevSync(fd, group, position);
    if (written < total) writeSync(fd, Buffer.concat(group).subarray(written), 0, total - written, position + written);
    position += total;
  }
  return position;
}

function segmentOpen({ fd, head }) {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const segment = { fd, hash: createHash("sha256").update(bytes), records: 0, position: writeAll(fd, [bytes], 0) };
  const id = nextSegment++;
  segments.set(id, segment);
  return { segment: id, bytes: segment.position };
}

/**
 * Where this thread frames a batch of redo records before hashing and writing them, reused from
 * batch to batch. Memory the process touches for the first time costs a page fault per 4 KiB on
 * these machines: reading each blob into a fresh buffer (readFileSync) had cost the archiver three
 * times the reads themselves.
 */
const FRAME_BYTES = 8 << 20;
let frameBuffer = null;

/** Reads the whole open file `fd` (`size` bytes) into `target` at `at`. */
function readWhole(fd, size, target, at, digest) {
  for (let done = 0; done < size; ) {
    const n = readSync(fd, target, at + done, size - done, done);
    if (n === 0) throw new Error(`blob ${digest} ended after ${done} of its ${size} bytes while being read`);
    done += n;
  }
}

/**
 * Appends redo records: each record's metadata JSON (one buffer for all, in order) with its
 * message bytes, given or read from the volume by digest, framed as encodeRawRecord frames one
 * (u32 body length, u32 CRC32 of the body, then the body: u32 metadata length, metadata JSON,
 * message bytes; the unit test holds the two to the same bytes). A blob the volume does not have
 * is named in `missing` and its record framed without bytes. Frames are laid out side by side in
 * the thread's frame buffer and hashed and written from there; a frame larger than the buffer
 * gets one of its own.
 */
function segmentAppend({ segment: id, root, metas, records }) {
  const segment = segments.get(id);
  if (!segment) throw new Error(`no redo segment ${id} is being written on this thread`);
  frameBuffer ??= Buffer.allocUnsafeSlow(FRAME_BYTES);
  const missing = [];
  const all = Buffer.from(metas.buffer, metas.byteOffset, metas.byteLength);
  let used = 0;
  const emit = (bytes) => {
    segment.hash.update(bytes);
    segment.position = writeAll(segment.fd, [bytes], segment.position);
  };
  const flush = () => {
    if (used > 0) emit(frameBuffer.subarray(0, used));
    used = 0;
  };
  let at = 0;
  for (const { metaLength, blob, digest } of records) {
    const meta = all.subarray(at, (at += metaLength));
    const given = blob ? Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) : null;
    let fd = null;
    try {
      let size = given?.length ?? 0;
      if (!given && digest) {
        try {
          fd = openSync(blobPath(root, digest), "r");
          size = fstatSync(fd).size;
        } catch (error) {
          if (error.code !== "ENOENT") throw error;
          missing.push(digest);
        }
      }
      const length = 12 + meta.length + size;
      if (used + length > FRAME_BYTES) flush();
      const own = length > FRAME_BYTES;
      const target = own ? Buffer.allocUnsafe(length) : frameBuffer;
      const start = own ? 0 : used;
      target.writeUInt32BE(4 + meta.length + size, start);
      target.writeUInt32BE(meta.length, start + 8);
      meta.copy(target, start + 12);
      if (given) given.copy(target, start + 12 + meta.length);
      else if (fd !== null) readWhole(fd, size, target, start + 12 + meta.length, digest);
      target.writeUInt32BE(crc32(target.subarray(start + 8, start + length)) >>> 0, start + 4);
      if (own) emit(target);
      else used += length;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }
  flush();
  segment.records += records.length;
  return { missing, bytes: segment.position };
}

/** The segment's record count and digest so far, for its trailer; the thread forgets it. */
function segmentClose({ segment: id }) {
  const segment = segments.get(id);
  segments.delete(id);
  if (!segment) throw new Error(`no redo segment ${id} is being written on this thread`);
  return { records: segment.records, bytes: segment.position, digest: segment.hash.digest() };
}

/** Forgets a segment whose writing failed. */
function segmentAbort({ segment: id }) {
  segments.delete(id);
  return null;
}

function hash({ parts }) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return { digest: hash.digest("hex"), parts };
}

const operations = { pack, absent, unpack, hash, segmentOpen, segmentAppend, segmentClose, segmentAbort };

/** The buffers of an answer moved back to the main thread rather than copied, per operation (as `MOVED` in blob-io.ts). */
const MOVED_BACK = {
  pack: (output) => output.blobs.map((b) => b.stored).filter((v) => v instanceof Uint8Array),
  unpack: (output) => [output.span],
  hash: (output) => output.parts,
};

/** Those of `views` that own their whole memory (a slice of a shared pool is copied instead). */
function transferable(views) {
  return views.filter((v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer).map((v) => v.buffer);
}

/**
 * Requests start in the order they come, at most two at once (an unpack alone): pack waits for
 * the codec in libuv's pool, and meanwhile the next request reads and hashes. Without the bound, every
 * request queued here would read its blobs at once (a worker's memory grew by a third). A
 * restore's span (up to 16 MiB, and its blobs decompressed) runs alone on its thread. The segment
 * operations are synchronous, so they keep their order among themselves.
 */
const queue = requestQueue({
  atOnce: 2,
  alone: new Set(["unpack"]),
  async serve({ id, op, input }) {
    try {
      const output = await operations[op](input);
      parentPort.postMessage({ id, output }, transferable(MOVED_BACK[op]?.(output) ?? []));
    } catch (error) {
      parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
    }
  },
});

parentPort.on("message", (request) => queue.push(request));
