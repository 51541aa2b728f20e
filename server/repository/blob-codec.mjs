/**
 * How a blob is stored in a pack: compressed with zstd level 1 when that saves at least a tenth,
 * else as it is; older packs also hold gzip. Plain JavaScript so that the blob I/O threads
 * (blob-io.worker.mjs, loaded by Node without a TypeScript loader) and the main thread
 * (pack-writer.ts, repository.ts) share one codec; blob-codec.d.mts types it.
 *
 * zstd is as fast as gzip level 1 is slow: on generated mail (text with base64 attachments) both
 * store 75% of the bytes, and zstd takes a sixth of the time.
 */
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { compress as zstd, decompress as unzstd } from "@mongodb-js/zstd";

const ZSTD_LEVEL = 1;
const gunzipAsync = promisify(gunzip);

/** The blob's bytes as zstd, or null when that would not save a tenth; large blobs are judged on a sample first. */
export async function compressed(bytes) {
  if (bytes.length <= 512) return null;
  if (bytes.length > 256 * 1024) {
    const sample = bytes.subarray(0, 64 * 1024);
    if ((await zstd(sample, ZSTD_LEVEL)).length >= sample.length * 0.9) return null;
  }
  const packed = await zstd(bytes, ZSTD_LEVEL);
  return packed.length < bytes.length * 0.9 ? packed : null;
}

/** A stored blob's raw bytes; throws what the codec says when they cannot be decompressed. */
export async function inflate(compression, stored) {
  if (compression === "none") return stored;
  if (compression === "zstd") return unzstd(stored);
  if (compression === "gzip") return gunzipAsync(stored);
  throw new Error(`unknown compression ${JSON.stringify(compression)}`);
}
