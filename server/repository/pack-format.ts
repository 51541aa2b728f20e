/**
 * The pack file of repository format 2 (docs/backup-target.md), after restic's: blobs back to
 * back, then a header that says where each one is, so a pack describes itself and the repository
 * index can be rebuilt from the packs alone.
 *
 *   "MVPACK02"                          8 bytes
 *   blob data, each stored as the header says (raw, zstd, or gzip in older packs)
 *   header: JSON { blobs: [[digest, offset, length, rawLength, compression], ...] }
 *   header length                       u32 BE
 *   header CRC-32                       u32 BE
 *   "MVPKEND2"                          8 bytes
 *
 * A pack is named by the sha256 of its whole content (`packs/<2 hex>/<64 hex>`): verifying a pack
 * is hashing it and comparing with its name. Each blob is named by the sha256 of its raw bytes,
 * which is checked again whenever it is read, so a damaged pack can never hand back wrong bytes.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

export const PACK_MAGIC = Buffer.from("MVPACK02");
export const PACK_TRAILER = Buffer.from("MVPKEND2");
/** Bytes after the header: its length, its CRC-32 and the trailer magic. */
export const PACK_TAIL_BYTES = 4 + 4 + PACK_TRAILER.length;

/** How a blob is stored in its pack: zstd since this was added, gzip in older packs. */
export type Compression = "none" | "gzip" | "zstd";

export interface PackedBlob {
  digest: string;
  /** Where the stored bytes start in the pack, and how many there are. */
  offset: number;
  length: number;
  /** The blob's own size once decompressed. */
  rawLength: number;
  compression: Compression;
}

export class PackFormatError extends Error {
  readonly code = "pack_damaged";
  constructor(
    readonly pack: string,
    detail: string,
  ) {
    super(`pack ${pack} is damaged: ${detail}`);
  }
}

export function packName(id: string): string {
  return `packs/${id.slice(0, 2)}/${id}`;
}

export function packIdOf(name: string): string | null {
  const match = /^packs\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(name);
  return match ? match[1]! : null;
}

/** The header and tail that close a pack whose blob data is already laid out. */
export function encodePackTail(blobs: PackedBlob[]): Buffer {
  const header = Buffer.from(JSON.stringify({ blobs: blobs.map((b) => [b.digest, b.offset, b.length, b.rawLength, b.compression]) }));
  const tail = Buffer.alloc(PACK_TAIL_BYTES);
  tail.writeUInt32BE(header.length, 0);
  tail.writeUInt32BE(crc32(header), 4);
  PACK_TRAILER.copy(tail, 8);
  return Buffer.concat([header, tail]);
}

/** Reads the header of a pack from its last bytes (`tail` must hold at least the header and tail). */
export function decodePackHeader(pack: string, packSize: number, tail: Buffer): PackedBlob[] {
  if (tail.length < PACK_TAIL_BYTES) throw new PackFormatError(pack, "shorter than its trailer");
  const end = tail.subarray(tail.length - PACK_TAIL_BYTES);
  if (!end.subarray(8).equals(PACK_TRAILER)) throw new PackFormatError(pack, "bad trailer magic");
  const headerLength = end.readUInt32BE(0);
  if (headerLength + PACK_TAIL_BYTES + PACK_MAGIC.length > packSize) throw new PackFormatError(pack, `implausible header length ${headerLength}`);
  if (headerLength + PACK_TAIL_BYTES > tail.length) throw new PackFormatError(pack, "header not in the bytes read");
  const header = tail.subarray(tail.length - PACK_TAIL_BYTES - headerLength, tail.length - PACK_TAIL_BYTES);
  if (crc32(header) !== end.readUInt32BE(4)) throw new PackFormatError(pack, "header checksum mismatch");
  let parsed: { blobs: [string, number, number, number, Compression][] };
  try {
    parsed = JSON.parse(header.toString("utf8")) as typeof parsed;
  } catch {
    throw new PackFormatError(pack, "header is not valid JSON");
  }
  const dataEnd = packSize - PACK_TAIL_BYTES - headerLength;
  return parsed.blobs.map(([digest, offset, length, rawLength, compression]) => {
    if (offset < PACK_MAGIC.length || offset + length > dataEnd) throw new PackFormatError(pack, `blob ${digest} lies outside the pack's data`);
    return { digest, offset, length, rawLength, compression };
  });
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
