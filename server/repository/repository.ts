/**
 * A format-2 repository on a storage backend: the blob store of a backup target. Its index is
 * loaded once per session; blobs are added through pack writers and read back by range, each
 * checked against its digest so damage is named, never passed on. Verify re-reads every pack;
 * prune drops packs with no blob still needed, rewrites packs that are mostly garbage, removes
 * packs no index names (what a crash mid-backup leaves), and replaces the index objects with one.
 */
import type { StorageBackend } from "./backend.ts";
import { inflate } from "./blob-codec.mjs";
import { decodePackHeader, PACK_MAGIC, PackFormatError, packIdOf, packName, sha256, type PackedBlob } from "./pack-format.ts";
import { DEFAULT_PACK_BYTES, PackWriter } from "./pack-writer.ts";
import { RepositoryIndex, saveIndex, type BlobLocation, type PackInfo } from "./repository-index.ts";

/** A temporary file older than this is a dead writer's: prune removes it. */
const TEMP_AGE_MS = 60 * 60 * 1000;
/** readMany reads neighbouring blobs of a pack in one span when they are closer than this... */
const SPAN_GAP_BYTES = 1024 * 1024;
/** ...and the span stays under this. */
const SPAN_MAX_BYTES = 16 * 1024 * 1024;
/** Blobs of a span decompressed, checked and handed on at once (the volume's writes overlap). */
const HAND_ON_CONCURRENCY = 8;

export class BlobNotInRepositoryError extends Error {
  readonly code = "blob_missing";
  constructor(
    readonly digest: string,
    location: string,
  ) {
    super(`blob ${digest} is missing from the backup target ${location}`);
  }
}

/** A range of a pack read in one go, and the blobs stored in it (offsets into `bytes`). */
export interface PackSpan {
  pack: string;
  bytes: Buffer;
  blobs: PackedBlob[];
}

export interface PackDamage {
  pack: string;
  detail: string;
  /** Blobs the damage touches (all of the pack's, when its header cannot be read). */
  blobs: string[];
}

export interface VerifyReport {
  packs: number;
  blobs: number;
  damaged: PackDamage[];
  /** Index entries whose pack is gone. */
  missingPacks: string[];
  /** Packs no index names: a crashed backup's leftovers, removed by prune. */
  unindexedPacks: string[];
}

export interface PruneReport {
  packsRemoved: number;
  packsRewritten: number;
  blobsRemoved: number;
  bytesFreed: number;
  bytesRewritten: number;
  unindexedRemoved: number;
  /** Temporary files of saves that never finished (a killed writer's), removed. */
  tempsRemoved: number;
}

export class Repository {
  /** Blobs the open writers of this process have taken on (shared, so concurrent batches dedup). */
  private readonly claimed = new Set<string>();

  private constructor(
    readonly backend: StorageBackend,
    public index: RepositoryIndex,
    /** Each index object's packs as read (index objects never change): a reload reads only new ones. */
    private readonly parsed: Map<string, PackInfo[]>,
  ) {}

  static async open(backend: StorageBackend): Promise<Repository> {
    const parsed = new Map<string, PackInfo[]>();
    return new Repository(backend, await RepositoryIndex.load(backend, parsed), parsed);
  }

  /** Builds the index again from the target's index objects (reading only those new since). */
  async reload(): Promise<void> {
    this.index = await RepositoryIndex.load(this.backend, this.parsed);
  }

  has(digest: string): boolean {
    return this.index.has(digest);
  }

  writer(packBytes = DEFAULT_PACK_BYTES): PackWriter {
    return new PackWriter(this.backend, this.index, packBytes, this.claimed, (name, packs) => this.parsed.set(name, packs));
  }

  /** A blob's bytes, checked against its digest. */
  async read(digest: string): Promise<Buffer> {
    const at = this.index.get(digest);
    if (!at) throw new BlobNotInRepositoryError(digest, this.backend.location);
    return this.readAt(digest, at);
  }

  private async readAt(digest: string, at: BlobLocation): Promise<Buffer> {
    const stored = await this.backend.read(packName(at.pack), { offset: at.offset, length: at.length });
    return unpack(at.pack, { digest, ...at }, stored);
  }

  /**
   * Reads the stored bytes of many blobs as spans of their packs and hands each span on: the
   * blobs of a pack are read in offset order, neighbours less than a MiB apart in one go (up to
   * 16 MiB), several spans at once, so a restore reads each pack once and sequentially. Each
   * span's blobs carry offsets into the span. Blobs not in the repository are returned. A span
   * that cannot be read throws, unless `unreadable` is given: it is then told the span's blobs.
   */
  async readSpans(
    digests: Iterable<string>,
    each: (span: PackSpan) => Promise<void>,
    concurrency = 4,
    unreadable?: (pack: string, digests: string[], error: Error) => Promise<void>,
  ): Promise<string[]> {
    const missing: string[] = [];
    const byPack = new Map<string, { digest: string; at: BlobLocation }[]>();
    for (const digest of new Set(digests)) {
      const at = this.index.get(digest);
      if (!at) missing.push(digest);
      else {
        let list = byPack.get(at.pack);
        if (!list) byPack.set(at.pack, (list = []));
        list.push({ digest, at });
      }
    }
    const spans: { pack: string; offset: number; end: number; blobs: { digest: string; at: BlobLocation }[] }[] = [];
    for (const [pack, list] of byPack) {
      list.sort((a, b) => a.at.offset - b.at.offset);
      let span: (typeof spans)[number] | undefined;
      for (const blob of list) {
        const end = blob.at.offset + blob.at.length;
        if (span && blob.at.offset - span.end < SPAN_GAP_BYTES && end - span.offset <= SPAN_MAX_BYTES) {
          span.end = Math.max(span.end, end);
          span.blobs.push(blob);
        } else spans.push((span = { pack, offset: blob.at.offset, end, blobs: [blob] }));
      }
    }
    const work = async () => {
      for (let span = spans.shift(); span; span = spans.shift()) {
        const read = this.backend.read(packName(span.pack), { offset: span.offset, length: span.end - span.offset });
        const bytes = unreadable ? await read.catch((error: Error) => unreadable(span.pack, span.blobs.map((b) => b.digest), error).then(() => null)) : await read;
        if (!bytes) continue;
        const from = span.offset;
        await each({
          pack: span.pack,
          bytes,
          blobs: span.blobs.map(({ digest, at }) => ({ digest, offset: at.offset - from, length: at.length, rawLength: at.rawLength, compression: at.compression })),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, work));
    return missing;
  }

  /** Reads many blobs (as `readSpans` does) and hands each to `each`, checked against its digest. */
  async readMany(digests: Iterable<string>, each: (digest: string, bytes: Buffer) => Promise<void>, concurrency = 4): Promise<string[]> {
    return this.readSpans(
      digests,
      async (span) => {
        let next = 0;
        const handOn = async () => {
          for (let i = next++; i < span.blobs.length; i = next++) {
            const blob = span.blobs[i]!;
            await each(blob.digest, await unpack(span.pack, blob, span.bytes.subarray(blob.offset, blob.offset + blob.length)));
          }
        };
        await Promise.all(Array.from({ length: HAND_ON_CONCURRENCY }, handOn));
      },
      concurrency,
    );
  }

  /**
   * Reads many blobs as `readSpans` does (each pack in a few range reads, not one read per blob)
   * and checks each against its digest; a blob that fails is told to `damaged` with the reason,
   * and reading goes on. A span that cannot be read (a sealed pack whose segment fails) is read
   * again a blob at a time, so only the blobs the damage touches are named. Returns the digests
   * the repository does not hold.
   */
  async checkMany(digests: Iterable<string>, damaged: (digest: string, detail: string) => void, concurrency = 4): Promise<string[]> {
    return this.readSpans(
      digests,
      async (span) => {
        for (const blob of span.blobs) {
          await unpack(span.pack, blob, span.bytes.subarray(blob.offset, blob.offset + blob.length)).catch((error: Error) => damaged(blob.digest, error.message));
        }
      },
      concurrency,
      async (_pack, blobs) => {
        for (const digest of blobs) await this.read(digest).catch((error: Error) => damaged(digest, error.message));
      },
    );
  }

  /** Every pack object the backend holds, by id. */
  async listPacks(): Promise<Map<string, number>> {
    const packs = new Map<string, number>();
    for await (const o of this.backend.list("packs/")) {
      const id = packIdOf(o.name);
      if (id) packs.set(id, o.size);
    }
    return packs;
  }

  /** Reads one pack whole and says what in it is damaged, or null when it is sound. */
  async checkPack(id: string, indexed?: PackInfo): Promise<PackDamage | null> {
    let bytes: Buffer;
    try {
      bytes = await this.backend.read(packName(id));
    } catch (error) {
      if ((error as { code?: string }).code !== "object_damaged") throw error;
      // Sealed (encrypted-backend.ts): each blob is read alone, so only the segments it lies in count.
      const touched: string[] = [];
      for (const b of indexed?.blobs ?? []) {
        try {
          await unpack(id, b, await this.backend.read(packName(id), { offset: b.offset, length: b.length }));
        } catch {
          touched.push(b.digest);
        }
      }
      return { pack: id, detail: `${(error as Error).message}${touched.length ? `; ${touched.length} blob(s) damaged` : ""}`, blobs: touched };
    }
    let blobs: PackedBlob[] | null = null;
    try {
      blobs = decodePackHeader(id, bytes.length, bytes);
    } catch (error) {
      const all = (indexed?.blobs ?? []).map((b) => b.digest);
      return { pack: id, detail: (error as Error).message, blobs: all };
    }
    if (sha256(bytes) === id && bytes.subarray(0, PACK_MAGIC.length).equals(PACK_MAGIC)) return null;
    // The pack is not what its name says: find the blobs the damage reaches.
    const touched: string[] = [];
    for (const b of blobs) {
      try {
        await unpack(id, b, bytes.subarray(b.offset, b.offset + b.length));
      } catch {
        touched.push(b.digest);
      }
    }
    return { pack: id, detail: touched.length ? `its content does not match its name; ${touched.length} blob(s) damaged` : "its content does not match its name", blobs: touched };
  }

  async verify(): Promise<VerifyReport> {
    await this.reload();
    const present = await this.listPacks();
    const report: VerifyReport = { packs: present.size, blobs: this.index.size, damaged: [], missingPacks: [], unindexedPacks: [] };
    for (const id of this.index.packs.keys()) if (!present.has(id)) report.missingPacks.push(id);
    for (const id of present.keys()) {
      if (!this.index.packs.has(id)) report.unindexedPacks.push(id);
      const damage = await this.checkPack(id, this.index.packs.get(id));
      if (damage) report.damaged.push(damage);
    }
    return report;
  }

  /**
   * Keeps the blobs in `needed`, and frees the rest: a pack with none of them is removed; a pack
   * whose needed bytes are less than `keepFraction` of it is rewritten with only those, and so is
   * any pack under `smallPackBytes` that holds garbage (cheap to rewrite, and it merges the small
   * packs that incrementals leave). Garbage in a big, mostly needed pack stays until it grows.
   */
  async prune(needed: Set<string>, options: { keepFraction?: number; smallPackBytes?: number } = {}): Promise<PruneReport> {
    const keepFraction = options.keepFraction ?? 0.5;
    const smallPackBytes = options.smallPackBytes ?? DEFAULT_PACK_BYTES / 4;
    await this.reload();
    const present = await this.listPacks();
    const report: PruneReport = { packsRemoved: 0, packsRewritten: 0, blobsRemoved: 0, bytesFreed: 0, bytesRewritten: 0, unindexedRemoved: 0, tempsRemoved: 0 };
    const kept: PackInfo[] = [];
    const writer = this.writer();
    const doomed: string[] = [];
    // Which copy of each needed blob is kept: the one the index resolves to.
    const live = (pack: PackInfo) => pack.blobs.filter((b) => needed.has(b.digest) && this.index.get(b.digest)?.pack === pack.id);
    for (const pack of this.index.packs.values()) {
      if (!present.has(pack.id)) continue;
      const keep = live(pack);
      const keepBytes = keep.reduce((n, b) => n + b.length, 0);
      if (keep.length === pack.blobs.length) {
        kept.push(pack);
        continue;
      }
      if (keep.length && keepBytes >= pack.size * keepFraction && pack.size >= smallPackBytes) {
        kept.push(pack);
        continue;
      }
      for (const b of keep) await writer.addStored(b, await this.backend.read(packName(pack.id), { offset: b.offset, length: b.length }));
      if (keep.length) report.packsRewritten++;
      else report.packsRemoved++;
      report.bytesRewritten += keepBytes;
      report.bytesFreed += pack.size - keepBytes;
      report.blobsRemoved += pack.blobs.length - keep.length;
      doomed.push(pack.id);
    }
    for (const [id, size] of present) {
      if (this.index.packs.has(id)) continue;
      doomed.push(id);
      report.unindexedRemoved++;
      report.bytesFreed += size;
    }
    // New packs and an index naming every pack kept, before anything is removed: a crash in
    // between leaves only packs to remove again, never a needed blob without a pack.
    const rewritten = await writer.close();
    const old = [...this.index.objects];
    const index = await saveIndex(this.backend, [...kept, ...writer.packs]);
    for (const name of [...old, rewritten.index]) if (name && name !== index) await this.backend.remove(name);
    for (const id of doomed) await this.backend.remove(packName(id));
    // Half-saved packs and index objects of killed writers: an hour is far past any save.
    // Shipped redo segments (redo/) are saved through temp names as well.
    for (const folder of ["packs", "index", "redo"]) report.tempsRemoved += (await this.backend.removeStaleTemps?.(TEMP_AGE_MS, folder))?.length ?? 0;
    await this.reload();
    return report;
  }
}

/** The raw bytes of a stored blob, checked against its digest. */
async function unpack(pack: string, blob: Pick<PackedBlob, "digest" | "compression" | "rawLength">, stored: Buffer): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await inflate(blob.compression, stored);
  } catch (error) {
    throw new PackFormatError(pack, `blob ${blob.digest} cannot be decompressed: ${(error as Error).message}`);
  }
  if (raw.length !== blob.rawLength || sha256(raw) !== blob.digest) throw new PackFormatError(pack, `blob ${blob.digest} does not match its digest`);
  return raw;
}
