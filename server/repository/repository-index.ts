/**
 * The repository index: which pack holds each blob, and where in it. It is the union of the
 * `index/<sha256>` objects, each a gzip'd JSON list of packs with their blobs; a backup adds one
 * per pack writer, prune replaces them all with one. A blob held by two packs (two writers that
 * raced to store it) is found in the first one read; prune keeps one copy.
 */
import { gunzip, gzip } from "node:zlib";
import { promisify } from "node:util";
import type { StorageBackend } from "./backend.ts";
import { sha256, type Compression, type PackedBlob } from "./pack-format.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface PackInfo {
  id: string;
  size: number;
  blobs: PackedBlob[];
}

export interface BlobLocation {
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  compression: Compression;
}

type IndexJson = { packs: { id: string; size: number; blobs: [string, number, number, number, Compression][] }[] };

export function encodeIndex(packs: PackInfo[]): Buffer {
  const json: IndexJson = { packs: packs.map((p) => ({ id: p.id, size: p.size, blobs: p.blobs.map((b) => [b.digest, b.offset, b.length, b.rawLength, b.compression]) })) };
  return Buffer.from(JSON.stringify(json));
}

/** Saves an index object naming these packs; returns its name. */
export async function saveIndex(backend: StorageBackend, packs: PackInfo[]): Promise<string> {
  const bytes = await gzipAsync(encodeIndex(packs), { level: 1 });
  const name = `index/${sha256(bytes)}`;
  await backend.save(name, bytes);
  return name;
}

export class RepositoryIndex {
  private readonly blobs = new Map<string, BlobLocation>();
  readonly packs = new Map<string, PackInfo>();
  /** The index objects read, so prune can replace them. */
  readonly objects = new Set<string>();

  get size(): number {
    return this.blobs.size;
  }

  has(digest: string): boolean {
    return this.blobs.has(digest);
  }

  get(digest: string): BlobLocation | undefined {
    return this.blobs.get(digest);
  }

  digests(): IterableIterator<string> {
    return this.blobs.keys();
  }

  addPack(pack: PackInfo): void {
    this.packs.set(pack.id, pack);
    for (const b of pack.blobs) {
      if (!this.blobs.has(b.digest)) this.blobs.set(b.digest, { pack: pack.id, offset: b.offset, length: b.length, rawLength: b.rawLength, compression: b.compression });
    }
  }

  /**
   * Reads every index object of the repository into a new index. `parsed` keeps each object's
   * packs as read, so a reload reads only the objects added since: an index object never
   * changes under its name (the hash of its bytes). The index itself is built anew each time,
   * from what is on the target alone: the packs that writers add to an index in memory before
   * their index object is saved are not carried over. (A 10,000-account full leaves about 400
   * index objects, and every session's start read them all again.)
   */
  static async load(backend: StorageBackend, parsed = new Map<string, PackInfo[]>()): Promise<RepositoryIndex> {
    const index = new RepositoryIndex();
    const present = new Set<string>();
    for await (const object of backend.list("index/")) {
      present.add(object.name);
      let packs = parsed.get(object.name);
      if (!packs) {
        const json = JSON.parse((await gunzipAsync(await backend.read(object.name))).toString("utf8")) as IndexJson;
        packs = json.packs.map((p) => ({ id: p.id, size: p.size, blobs: p.blobs.map(([digest, offset, length, rawLength, compression]) => ({ digest, offset, length, rawLength, compression })) }));
        parsed.set(object.name, packs);
      }
      for (const pack of packs) index.addPack(pack);
      index.objects.add(object.name);
    }
    for (const name of parsed.keys()) if (!present.has(name)) parsed.delete(name);
    return index;
  }
}
