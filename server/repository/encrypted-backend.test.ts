import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeBackendConformance } from "./backend-conformance.ts";
import { EncryptedBackend, ObjectAuthenticationError, plainSize, sealedSize, SEGMENT_BYTES } from "./encrypted-backend.ts";
import { LocalBackend } from "./local-backend.ts";
import { packName, sha256 } from "./pack-format.ts";
import { Repository } from "./repository.ts";

describeBackendConformance("encrypted, over a local folder", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-encrypted-"));
  const inner = new LocalBackend(path.join(dir, "target"));
  return {
    backend: new EncryptedBackend(inner, randomBytes(32)),
    cleanup: async () => {
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("EncryptedBackend", () => {
  let dir: string;
  let inner: LocalBackend;
  let key: Buffer;
  let backend: EncryptedBackend;
  const stored = (name: string) => path.join(dir, "target", ...name.split("/"));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-encrypted-"));
    inner = new LocalBackend(path.join(dir, "target"));
    key = randomBytes(32);
    backend = new EncryptedBackend(inner, key);
  });
  afterEach(async () => {
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("seals a stream the same however it is cut into chunks, a source reusing its chunk included", async () => {
    const bytes = randomBytes(3 * SEGMENT_BYTES + 100);
    const cuts = [1000, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 2 * SEGMENT_BYTES, bytes.length];
    for (const cut of cuts) {
      // One buffer refilled for every chunk, as a reader with a fixed buffer would do.
      async function* reused() {
        const buffer = Buffer.alloc(cut);
        for (let at = 0; at < bytes.length; at += cut) {
          const n = bytes.copy(buffer, 0, at, at + cut);
          yield buffer.subarray(0, n);
        }
      }
      const name = `packs/ab/cut-${cut}`;
      await backend.save(name, reused());
      expect((await stat(stored(name))).size, String(cut)).toBe(sealedSize(bytes.length));
      expect((await backend.read(name)).equals(bytes), String(cut)).toBe(true);
      const across = { offset: SEGMENT_BYTES - 10, length: SEGMENT_BYTES + 20 };
      expect((await backend.read(name, across)).equals(bytes.subarray(across.offset, across.offset + across.length)), String(cut)).toBe(true);
    }
  });

  it("passes no plaintext digest to the store below, whose bytes are sealed", async () => {
    const seen: (string | undefined)[] = [];
    const save = inner.save.bind(inner);
    inner.save = async (name, data, options) => {
      seen.push(options?.sha256);
      return save(name, data, options);
    };
    const bytes = randomBytes(1000);
    async function* chunks() {
      yield bytes;
    }
    await backend.save("packs/ab/one", bytes, { sha256: sha256(bytes) });
    await backend.save("packs/ab/two", chunks(), { sha256: sha256(bytes), createOnly: true });
    expect(seen).toEqual([undefined, undefined]);
    expect(await backend.read("packs/ab/two")).toEqual(bytes);
  });

  it("reads a range of an object replaced while it is read from one version, not a mix of two", async () => {
    const v1 = randomBytes(3 * SEGMENT_BYTES);
    const v2 = randomBytes(3 * SEGMENT_BYTES);
    await backend.save("sessions/x/state.json", v1);
    // The first read of the stored object lets a writer replace it before anything else is read.
    const read = inner.read.bind(inner);
    let replaced = false;
    inner.read = async (name, range) => {
      const bytes = await read(name, range);
      if (!replaced && name === "sessions/x/state.json") {
        replaced = true;
        await backend.save(name, v2);
      }
      return bytes;
    };
    const tail = { offset: 2 * SEGMENT_BYTES + 100, length: 1000 };
    expect(await backend.read("sessions/x/state.json", tail)).toEqual(v1.subarray(tail.offset, tail.offset + tail.length));
    expect(await backend.read("sessions/x/state.json", tail)).toEqual(v2.subarray(tail.offset, tail.offset + tail.length));
  });

  it("maps every plaintext size to its stored size and back", () => {
    for (const n of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES, 5_000_000]) expect(plainSize(sealedSize(n)), String(n)).toBe(n);
    expect(plainSize(10)).toBeNull();
  });

  it("stores no plaintext: a message's words are not in the stored object", async () => {
    const mail = Buffer.from("Subject: Quarterly report\r\n\r\nThe merger closes on Friday.\r\n".repeat(2000));
    await backend.save("packs/ab/one", mail);
    const raw = await readFile(stored("packs/ab/one"));
    expect(raw.length).toBe(sealedSize(mail.length));
    expect(raw.includes(Buffer.from("merger"))).toBe(false);
    expect((await backend.read("packs/ab/one")).equals(mail)).toBe(true);
  });

  it("refuses a flipped byte, a cut at a segment boundary, a swapped name and another key, whole and in ranges", async () => {
    const bytes = randomBytes(3 * SEGMENT_BYTES + 100);
    await backend.save("packs/ab/x", bytes);
    await backend.save("packs/ab/y", bytes);
    const raw = await readFile(stored("packs/ab/x"));

    const flipped = Buffer.from(raw);
    flipped[raw.length - 50]! ^= 1;
    await writeFile(stored("packs/ab/x"), flipped);
    await expect(backend.read("packs/ab/x")).rejects.toBeInstanceOf(ObjectAuthenticationError);
    await expect(new EncryptedBackend(inner, key).read("packs/ab/x", { offset: bytes.length - 10, length: 10 })).rejects.toThrow(/fails authentication \(segment 3\)/);
    // The segments before the damage still read.
    expect((await new EncryptedBackend(inner, key).read("packs/ab/x", { offset: 0, length: 100 })).equals(bytes.subarray(0, 100))).toBe(true);

    // Cut after its second segment: the second is not marked last, so the cut shows.
    await writeFile(stored("packs/ab/x"), raw.subarray(0, 40 + 2 * (SEGMENT_BYTES + 16)));
    await expect(new EncryptedBackend(inner, key).read("packs/ab/x")).rejects.toBeInstanceOf(ObjectAuthenticationError);

    // The same bytes under another name: the name is bound in.
    await writeFile(stored("packs/ab/x"), await readFile(stored("packs/ab/y")));
    await expect(new EncryptedBackend(inner, key).read("packs/ab/x")).rejects.toThrow(/fails authentication/);
    await expect(new EncryptedBackend(inner, randomBytes(32)).read("packs/ab/y")).rejects.toThrow(/not written with this repository's key/);
  });

  it("lets a repository check a sealed pack span by span, naming only the blobs in a segment that fails", async () => {
    const repo = await Repository.open(backend);
    const writer = repo.writer(1 << 30);
    const digests: string[] = [];
    for (let i = 0; i < 40; i++) {
      const bytes = randomBytes(5_000 + i * 700);
      digests.push(sha256(bytes));
      await writer.add(digests[i]!, bytes);
    }
    await writer.close();
    const [pack] = repo.index.packs.values();
    const file = stored(packName(pack!.id));
    const sealed = await readFile(file);
    sealed[sealed.length - plainSize(sealed.length)! + 100]! ^= 0xff; // inside the first segment
    await writeFile(file, sealed);

    const damaged: string[] = [];
    const missing = await (await Repository.open(backend)).checkMany(digests, (digest) => damaged.push(digest));
    const firstSegment = pack!.blobs.filter((b) => b.offset < SEGMENT_BYTES).map((b) => b.digest);
    expect(missing).toEqual([]);
    expect(damaged.sort()).toEqual(firstSegment.sort());
    expect(damaged.length).toBeLessThan(digests.length);
  });

  it("leaves key objects as they are", async () => {
    await backend.save("keys/k1", Buffer.from('{"kdf":"scrypt"}'));
    expect(await readFile(stored("keys/k1"), "utf8")).toBe('{"kdf":"scrypt"}');
    expect(await backend.stat("keys/k1")).toEqual({ name: "keys/k1", size: 16 });
  });
});
