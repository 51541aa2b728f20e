/**
 * Writes blobs into packs: each blob is checked against its digest, compressed (zstd level 1 in
 * libuv's thread pool, so both cores work) when that saves a tenth, and appended to the pack being
 * filled in memory. A full pack is saved as one object, while the next one fills: one write and
 * one sync per pack, never per blob. `close()` saves the last pack and then one index object for
 * the packs this writer wrote; a crash before that leaves only packs no index names, which verify
 * reports and prune removes.
 */
import type { StorageBackend } from "./backend.ts";
import { hashOffThread, type PreparedBlob } from "./blob-io.ts";
import { compressed } from "./blob-codec.mjs";
import { encodePackTail, PACK_MAGIC, packName, sha256, type PackedBlob } from "./pack-format.ts";
import { saveIndex, type PackInfo, type RepositoryIndex } from "./repository-index.ts";

/**
 * Packs are closed once they pass this size: 16 MiB, restic's default (kopia's are 20-40 MiB).
 * Large enough that a pack costs one write and one sync for hundreds of blobs, small enough that
 * several batches' writers, each with at most two packs in memory, stay well within a worker's
 * memory.
 */
export const DEFAULT_PACK_BYTES = 16 * 1024 * 1024;

async function* fromChunks(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export class BlobDigestError extends Error {
  readonly code = "blob_digest_mismatch";
  constructor(
    readonly digest: string,
    readonly actual: string,
  ) {
    super(`blob ${digest} has content with digest ${actual}`);
  }
}

interface OpenPack {
  chunks: Buffer[];
  size: number;
  blobs: PackedBlob[];
}

export interface WriterTotals {
  packs: number;
  blobs: number;
  /** Bytes stored (after compression) and the blobs' own bytes. */
  storedBytes: number;
  rawBytes: number;
  index: string | null;
}

export class PackWriter {
  private current: OpenPack = PackWriter.empty();
  private readonly written: PackInfo[] = [];
  /** Blobs this writer took on; `claimed` holds every writer's of this repository in the process. */
  private readonly taken = new Set<string>();
  private saving: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private readonly totals: WriterTotals = { packs: 0, blobs: 0, storedBytes: 0, rawBytes: 0, index: null };

  constructor(
    private readonly backend: StorageBackend,
    private readonly index: RepositoryIndex,
    private readonly packBytes = DEFAULT_PACK_BYTES,
    /**
     * Blobs taken on by any writer of the repository in this process and not yet closed, so that
     * batches running side by side store a blob new to all of them once, not once each.
     */
    private readonly claimed: Set<string> = new Set(),
    /** Told of each index object this writer saves, with its packs (so a reload need not read it back). */
    private readonly indexSaved: (name: string, packs: PackInfo[]) => void = () => {},
  ) {}

  private static empty(): OpenPack {
    return { chunks: [PACK_MAGIC], size: PACK_MAGIC.length, blobs: [] };
  }

  /** The packs this writer has saved so far. */
  get packs(): readonly PackInfo[] {
    return this.written;
  }

  /** Whether the blob is in a pack an index names, as far as this writer knows (after `close`, its own packs count). */
  stored(digest: string): boolean {
    return this.index.has(digest);
  }

  /** Whether the repository or this writer already holds the blob. */
  holds(digest: string): boolean {
    return this.index.has(digest) || this.taken.has(digest) || this.claimed.has(digest);
  }

  /**
   * Takes a blob on before its bytes are at hand (they are read elsewhere, as by blob-io.ts):
   * false when it is already held. What is taken must then be added with `addPrepared` or let go
   * with `release`.
   */
  claim(digest: string): boolean {
    if (this.holds(digest)) return false;
    this.take(digest);
    return true;
  }

  private take(digest: string): void {
    this.taken.add(digest);
    this.claimed.add(digest);
  }

  release(digest: string): void {
    this.taken.delete(digest);
    this.claimed.delete(digest);
  }

  /**
   * Adds a blob unless it is already held; returns the bytes it will take (0 when held). The
   * digest is checked here: the name a blob has on the volume is not trusted blindly.
   */
  async add(digest: string, bytes: Buffer, options: { compress?: boolean } = {}): Promise<number> {
    if (this.holds(digest)) return 0;
    this.take(digest);
    const actual = sha256(bytes);
    if (actual !== digest) {
      this.release(digest);
      throw new BlobDigestError(digest, actual);
    }
    if (isGzip(bytes)) throw new Error(`blob ${digest} starts with gzip's magic bytes; a message never does`);
    const packed = options.compress === false ? null : await compressed(bytes);
    // The pack's chunks are moved to a thread to be hashed (hashOffThread): the caller's bytes
    // stay the caller's, so a copy goes into the pack.
    return this.append(digest, packed ?? Buffer.from(bytes), bytes.length, packed ? "zstd" : "none");
  }

  /** Adds a claimed blob whose bytes were read, checked and compressed already (blob-io.ts). */
  async addPrepared(blob: PreparedBlob): Promise<number> {
    if (!this.taken.has(blob.digest)) throw new Error(`blob ${blob.digest} was not claimed by this writer`);
    const stored = Buffer.from(blob.stored.buffer, blob.stored.byteOffset, blob.stored.byteLength);
    return this.append(blob.digest, stored, blob.rawLength, blob.compression);
  }

  /** Adds bytes already stored in another pack (prune's repacking), as they are. */
  async addStored(blob: PackedBlob, stored: Buffer): Promise<number> {
    if (this.taken.has(blob.digest)) return 0;
    this.taken.add(blob.digest);
    return this.append(blob.digest, stored, blob.rawLength, blob.compression);
  }

  private async append(digest: string, stored: Buffer, rawLength: number, compression: PackedBlob["compression"]): Promise<number> {
    if (this.failed) throw this.failed;
    const pack = this.current;
    pack.blobs.push({ digest, offset: pack.size, length: stored.length, rawLength, compression });
    pack.chunks.push(stored);
    pack.size += stored.length;
    this.totals.blobs++;
    this.totals.storedBytes += stored.length;
    this.totals.rawBytes += rawLength;
    const length = stored.length; // the bytes leave for a thread when the pack is sealed
    if (pack.size >= this.packBytes) await this.seal();
    return length;
  }

  /** Saves the pack being filled (after the previous save, so at most two packs are in memory). */
  private async seal(): Promise<void> {
    const pack = this.current;
    if (pack.blobs.length === 0) return;
    this.current = PackWriter.empty();
    const previous = this.saving;
    this.saving = previous.then(async () => {
      // The blobs are saved as the chunks they came in, never copied into one buffer: a 16 MiB
      // copy per pack cost more than hashing it. The pack's name, its SHA-256, is computed on a
      // blob I/O thread, the chunks moved there and back.
      const { digest: id, parts: chunks } = await hashOffThread([...pack.chunks, encodePackTail(pack.blobs)]);
      await this.backend.save(packName(id), fromChunks(chunks), { sha256: id });
      const info: PackInfo = { id, size: pack.size + chunks.at(-1)!.length, blobs: pack.blobs };
      this.written.push(info);
      this.index.addPack(info);
      this.totals.packs++;
    });
    this.saving.catch((error: unknown) => {
      this.failed ??= error;
    });
    await previous;
  }

  /** Saves every pack filled so far (the index object waits for `close`). */
  async flush(): Promise<void> {
    await this.seal();
    await this.saving;
    if (this.failed) throw this.failed;
  }

  /** Saves what is left and the index object of this writer's packs. */
  async close(): Promise<WriterTotals> {
    try {
      await this.flush();
      if (this.written.length) {
        this.totals.index = await saveIndex(this.backend, this.written);
        this.indexSaved(this.totals.index, [...this.written]);
      }
      return { ...this.totals };
    } finally {
      // Stored (and in the index) or not stored at all: either way no longer this writer's
      // to vouch for, so another writer stores what this one could not.
      for (const digest of this.taken) this.claimed.delete(digest);
    }
  }
}
