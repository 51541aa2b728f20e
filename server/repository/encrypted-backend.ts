/**
 * Client-side encryption of a backup target: a storage backend that wraps another and stores
 * every object (packs, indexes, session files, target.json) sealed under the repository key, so
 * the store (a bucket, a provider) holds no mail in the clear. Key objects (`keys/<id>`, see
 * repository-keys.ts) are the only ones stored as they are: each is itself sealed under a key
 * derived from a passphrase.
 *
 * An object is sealed as a stream of segments (the STREAM construction of Hoang, Reyhanitabar,
 * Rogaway and Vizár, as age uses it), so a range of it can be read and checked without the rest:
 *
 *   "MVENC1\0\0" (8 bytes) | salt (32 random bytes) | segment 0 | segment 1 | ... | segment n-1
 *
 * Each object has its own key, HKDF-SHA256(repository key, salt, "mailvault object"), so nonces
 * never repeat across objects. Segment i holds 64 KiB of plaintext (the last one fewer, an empty
 * object one empty segment), sealed with AES-256-GCM under nonce = i (8 bytes, big-endian) |
 * 0 0 0 | last (1 if it is the final segment, else 0), with the object's name as associated
 * data. So a flipped byte, a segment moved, an object cut at a segment boundary, or an object
 * copied under another name all fail authentication (ObjectAuthenticationError), and nothing
 * damaged is ever handed back as data.
 *
 * Names and sizes stay visible (docs/backup-target.md says what the store learns from them).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { ObjectExistsError, ObjectNotFoundError, ObjectRangeError, type ObjectInfo, type SaveOptions, type StorageBackend } from "./backend.ts";

const MAGIC = Buffer.from("MVENC1\0\0", "latin1");
const SALT_BYTES = 32;
/** Where a sealed object's first segment starts. */
export const HEADER_BYTES = MAGIC.length + SALT_BYTES;
export const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const SEALED_SEGMENT = SEGMENT_BYTES + TAG_BYTES;

/** Objects under this folder are stored as they are (they seal themselves: repository-keys.ts). */
export const KEYS_FOLDER = "keys/";

export class ObjectAuthenticationError extends Error {
  readonly code = "object_damaged";
  constructor(
    readonly location: string,
    readonly objectName: string,
    detail: string,
  ) {
    super(`${objectName} in ${location} fails authentication (${detail}): it was damaged, or not written with this repository's key`);
  }
}

/** The stored size of an object of `plain` bytes. */
export function sealedSize(plain: number): number {
  const segments = Math.max(1, Math.ceil(plain / SEGMENT_BYTES));
  return HEADER_BYTES + plain + segments * TAG_BYTES;
}

/** The plaintext size of a stored object of `sealed` bytes, or null when no object has that size. */
export function plainSize(sealed: number): number | null {
  const body = sealed - HEADER_BYTES;
  if (body < TAG_BYTES) return null;
  const full = Math.floor(body / SEALED_SEGMENT);
  const rest = body - full * SEALED_SEGMENT;
  if (rest === 0) return full * SEGMENT_BYTES;
  if (rest < TAG_BYTES) return null;
  return full * SEGMENT_BYTES + rest - TAG_BYTES;
}

function nonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 0);
  n[11] = last ? 1 : 0;
  return n;
}

export class EncryptedBackend implements StorageBackend {
  readonly location: string;
  /**
   * Stored size and object key of packs read lately: a range read needs to know which segment
   * is the last, and packs never change under their name (it is their content's hash), so a
   * restore reading many spans of one pack asks for these once.
   */
  private readonly packs = new Map<string, { stored: number; key: Buffer }>();

  constructor(
    readonly inner: StorageBackend,
    private readonly repositoryKey: Buffer,
  ) {
    if (repositoryKey.length !== 32) throw new Error("the repository key has 32 bytes");
    this.location = inner.location;
  }

  private objectKey(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync("sha256", this.repositoryKey, salt, "mailvault object", 32));
  }

  private sealSegment(key: Buffer, name: string, index: number, last: boolean, plain: Uint8Array): Buffer[] {
    const cipher = createCipheriv("aes-256-gcm", key, nonce(index, last));
    cipher.setAAD(Buffer.from(name));
    return [cipher.update(plain), cipher.final(), cipher.getAuthTag()];
  }

  private openSegment(key: Buffer, name: string, index: number, last: boolean, sealed: Buffer): Buffer {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce(index, last));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ObjectAuthenticationError(this.location, name, `segment ${index}`);
    }
  }

  private header(): { header: Buffer; key: Buffer } {
    const salt = randomBytes(SALT_BYTES);
    return { header: Buffer.concat([MAGIC, salt]), key: this.objectKey(salt) };
  }

  private keyOf(name: string, header: Buffer): Buffer {
    if (header.length < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) throw new ObjectAuthenticationError(this.location, name, "not an encrypted object");
    return this.objectKey(header.subarray(MAGIC.length, HEADER_BYTES));
  }

  /** Seals a stream of plaintext chunks into a stream of stored bytes. */
  private async *seal(name: string, data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Buffer> {
    const { header, key } = this.header();
    yield header;
    let pending: Buffer[] = [];
    let size = 0;
    let index = 0;
    const joined = () => (pending.length === 1 ? pending[0]! : Buffer.concat(pending, size));
    for await (const chunk of data) {
      let piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      while (piece.length) {
        // A full segment is sealed only once more bytes follow it, so the last one is known.
        if (size === SEGMENT_BYTES) {
          yield* this.sealSegment(key, name, index++, false, joined());
          pending = [];
          size = 0;
        }
        if (size === 0 && piece.length > SEGMENT_BYTES) {
          // A whole segment of this chunk with more after it: sealed straight from the chunk
          // (the cipher reads it before anything is yielded), not copied first.
          yield* this.sealSegment(key, name, index++, false, piece.subarray(0, SEGMENT_BYTES));
          piece = piece.subarray(SEGMENT_BYTES);
          continue;
        }
        const take = piece.subarray(0, SEGMENT_BYTES - size);
        // Copied: the source may reuse its chunk once the next one is asked for.
        pending.push(Buffer.from(take));
        size += take.length;
        piece = piece.subarray(take.length);
      }
    }
    yield* this.sealSegment(key, name, index, true, joined());
  }

  async save(name: string, data: Buffer | AsyncIterable<Uint8Array>, options?: SaveOptions): Promise<void> {
    if (name.startsWith(KEYS_FOLDER)) return this.inner.save(name, data, options);
    // Sealing differs each time: an object saved again over itself would change under a reader
    // reading it in ranges, even on a store that replaces atomically. So createOnly looks first,
    // unless the store below checks atomically itself (a folder).
    if (options?.createOnly && !this.inner.createsAtomically && (await this.inner.stat(name))) throw new ObjectExistsError(this.location, name);
    this.packs.delete(name);
    // The plaintext's digest says nothing of the sealed bytes the store receives.
    const { sha256: _plaintextDigest, ...sealedOptions } = options ?? {};
    if (!Buffer.isBuffer(data)) return this.inner.save(name, this.seal(name, data), sealedOptions);
    // A buffer stays a buffer (one write), sealed the same way as a stream of one chunk.
    const sealed: Buffer[] = [];
    for await (const part of this.seal(name, [data])) sealed.push(part);
    return this.inner.save(name, Buffer.concat(sealed), sealedOptions);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    if (name.startsWith(KEYS_FOLDER)) return this.inner.read(name, range);
    if (!range) return this.openAll(name, await this.inner.read(name));
    const { offset, length } = range;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid range ${JSON.stringify(range)} for ${name} in ${this.location}`);
    }
    // A pack never changes, so its header is read once and the range on its own. Any other object
    // may be replaced between two reads: it is read from its start in one read, so the header
    // (the object's key) and the segments come from the same version.
    const pack = this.packs.get(name) ?? (name.startsWith("packs/") ? await this.sealedFacts(name) : null);
    const stored = pack ? pack.stored : await this.storedSize(name);
    const plain = plainSize(stored)!;
    if (offset + length > plain) throw new ObjectRangeError(this.location, name, range, plain);
    if (length === 0) return Buffer.alloc(0);
    const segments = Math.max(1, Math.ceil(plain / SEGMENT_BYTES));
    const first = Math.floor(offset / SEGMENT_BYTES);
    const last = Math.floor((offset + length - 1) / SEGMENT_BYTES);
    const from = HEADER_BYTES + first * SEALED_SEGMENT;
    const to = Math.min(stored, HEADER_BYTES + (last + 1) * SEALED_SEGMENT);
    let key: Buffer;
    let body: Buffer;
    if (pack) {
      key = pack.key;
      body = await this.inner.read(name, { offset: from, length: to - from });
    } else {
      const whole = await this.inner.read(name, { offset: 0, length: to });
      key = this.keyOf(name, whole);
      body = whole.subarray(from);
    }
    const out: Buffer[] = [];
    for (let i = first, at = 0; i <= last; i++, at += SEALED_SEGMENT) {
      out.push(this.openSegment(key, name, i, i === segments - 1, body.subarray(at, Math.min(body.length, at + SEALED_SEGMENT))));
    }
    const opened = Buffer.concat(out);
    const start = offset - first * SEGMENT_BYTES;
    return opened.subarray(start, start + length);
  }

  private openAll(name: string, sealed: Buffer): Buffer {
    if (plainSize(sealed.length) === null) throw new ObjectAuthenticationError(this.location, name, `no sealed object has ${sealed.length} bytes`);
    const key = this.keyOf(name, sealed);
    const body = sealed.subarray(HEADER_BYTES);
    const segments = Math.max(1, Math.ceil(body.length / SEALED_SEGMENT));
    const out: Buffer[] = [];
    for (let i = 0; i < segments; i++) out.push(this.openSegment(key, name, i, i === segments - 1, body.subarray(i * SEALED_SEGMENT, (i + 1) * SEALED_SEGMENT)));
    return Buffer.concat(out);
  }

  private async storedSize(name: string): Promise<number> {
    const info = await this.inner.stat(name);
    if (!info) throw new ObjectNotFoundError(this.location, name);
    if (plainSize(info.size) === null) throw new ObjectAuthenticationError(this.location, name, `no sealed object has ${info.size} bytes`);
    return info.size;
  }

  /** The stored size and the object key of an object (cached for packs, which never change). */
  private async sealedFacts(name: string): Promise<{ stored: number; key: Buffer }> {
    const known = this.packs.get(name);
    if (known) return known;
    const info = await this.inner.stat(name);
    if (!info) throw new ObjectNotFoundError(this.location, name);
    if (plainSize(info.size) === null) throw new ObjectAuthenticationError(this.location, name, `no sealed object has ${info.size} bytes`);
    const facts = { stored: info.size, key: this.keyOf(name, await this.inner.read(name, { offset: 0, length: HEADER_BYTES })) };
    if (name.startsWith("packs/")) {
      if (this.packs.size >= 4096) this.packs.delete(this.packs.keys().next().value!);
      this.packs.set(name, facts);
    }
    return facts;
  }

  private plainInfo(info: ObjectInfo): ObjectInfo {
    if (info.name.startsWith(KEYS_FOLDER)) return info;
    // A stored size no sealed object can have is shown as it is; reading it names the damage.
    return { name: info.name, size: plainSize(info.size) ?? info.size };
  }

  async stat(name: string): Promise<ObjectInfo | null> {
    const info = await this.inner.stat(name);
    return info && this.plainInfo(info);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const info of this.inner.list(prefix)) yield this.plainInfo(info);
  }

  listFolders(folder: string): Promise<string[]> {
    return this.inner.listFolders(folder);
  }

  async remove(name: string): Promise<void> {
    this.packs.delete(name);
    await this.inner.remove(name);
  }

  async removeAll(folder: string): Promise<number> {
    for (const name of [...this.packs.keys()]) if (name.startsWith(folder)) this.packs.delete(name);
    return this.inner.removeAll(folder);
  }

  removeStaleTemps(olderThanMs: number, folder?: string): Promise<string[]> {
    return this.inner.removeStaleTemps?.(olderThanMs, folder) ?? Promise.resolve([]);
  }
}
