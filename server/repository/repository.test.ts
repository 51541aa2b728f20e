import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalBackend } from "./local-backend.ts";
import { packName, sha256 } from "./pack-format.ts";
import { BlobDigestError } from "./pack-writer.ts";
import { Repository } from "./repository.ts";

let root: string;
let backend: LocalBackend;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "mailvault-repo-"));
  backend = new LocalBackend(root);
});

afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

/** Blobs like mail: compressible text of many sizes, and some incompressible attachments. */
function blobs(n: number, seed = 0): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const bytes =
      i % 5 === 4
        ? randomBytes(2_000 + ((i * 7919) % 40_000))
        : Buffer.from(`From: user${i}@example.com\r\nSubject: message ${seed}-${i}\r\n\r\n${"lorem ipsum dolor sit amet ".repeat(20 + (i % 300))}`);
    out.set(sha256(bytes), bytes);
  }
  return out;
}

async function store(repo: Repository, set: Map<string, Buffer>, packBytes = 64 * 1024) {
  const writer = repo.writer(packBytes);
  for (const [digest, bytes] of set) await writer.add(digest, bytes);
  return writer.close();
}

/** 40 blobs in one pack, the 8th with a byte flipped in the middle of its stored bytes. */
async function onePackWithADamagedBlob() {
  const set = blobs(40);
  const repo = await Repository.open(backend);
  await store(repo, set, 1 << 30);
  const [pack] = repo.index.packs.values();
  const victim = pack!.blobs[7]!;
  const file = path.join(root, packName(pack!.id));
  const bytes = await readFile(file);
  bytes[victim.offset + Math.floor(victim.length / 2)]! ^= 0xff;
  await writeFile(file, bytes);
  return { set, pack: pack!, victim };
}

describe("format-2 repository", () => {
  it("saves each pack with the SHA-256 of exactly its bytes, which a store may check them against", async () => {
    const given: { name: string; sha256: string | undefined; actual: string }[] = [];
    const save = backend.save.bind(backend);
    backend.save = async (name, data, options) => {
      const chunks: Buffer[] = [];
      if (Buffer.isBuffer(data)) chunks.push(data);
      else for await (const chunk of data) chunks.push(Buffer.from(chunk));
      const bytes = Buffer.concat(chunks);
      if (name.startsWith("packs/")) given.push({ name, sha256: options?.sha256, actual: sha256(bytes) });
      return save(name, bytes, options);
    };
    await store(await Repository.open(backend), blobs(120), 64 * 1024);
    expect(given.length).toBeGreaterThan(2);
    for (const g of given) expect(g).toEqual({ name: packName(g.actual), sha256: g.actual, actual: g.actual });
  });

  it("gives back every blob's exact bytes from packs, after reopening, and stores each blob once", async () => {
    const set = blobs(300);
    const repo = await Repository.open(backend);
    const totals = await store(repo, set);
    expect(totals.packs).toBeGreaterThan(5);
    expect(totals.blobs).toBe(300);
    expect(totals.storedBytes).toBeLessThan(totals.rawBytes);

    const again = await Repository.open(backend);
    for (const [digest, bytes] of set) expect(sha256(await again.read(digest))).toBe(sha256(bytes));
    // A second writer adds nothing it already holds.
    expect((await store(again, set)).blobs).toBe(0);
    const seen = new Map<string, string>();
    const missing = await again.readMany([...set.keys(), "f".repeat(64)], async (d, b) => void seen.set(d, sha256(b)));
    expect(missing).toEqual(["f".repeat(64)]);
    expect(seen.size).toBe(300);
    for (const [d, s] of seen) expect(s).toBe(d);
  });

  it("refuses a blob whose bytes do not match its digest", async () => {
    const repo = await Repository.open(backend);
    const writer = repo.writer();
    await expect(writer.add("0".repeat(64), Buffer.from("not that"))).rejects.toBeInstanceOf(BlobDigestError);
    expect((await writer.close()).blobs).toBe(0);
  });

  it("names a damaged pack and the blobs it touches, and never reads back wrong bytes", async () => {
    const { pack, victim } = await onePackWithADamagedBlob();

    const reopened = await Repository.open(backend);
    const report = await reopened.verify();
    expect(report.damaged).toEqual([{ pack: pack.id, detail: expect.stringContaining("does not match its name"), blobs: [victim.digest] }]);
    await expect(reopened.read(victim.digest)).rejects.toThrow(`pack ${pack.id} is damaged: blob ${victim.digest}`);
    const other = pack.blobs[8]!;
    expect(sha256(await reopened.read(other.digest))).toBe(other.digest);
  });

  it("checks many blobs a span at a time, naming only the damaged one and the ones it does not hold", async () => {
    const { set, pack, victim } = await onePackWithADamagedBlob();

    const reopened = await Repository.open(backend);
    const damaged: string[] = [];
    const absent = sha256(Buffer.from("never stored"));
    const missing = await reopened.checkMany([...set.keys(), absent], (digest, detail) => damaged.push(`${digest}: ${detail}`));
    expect(damaged).toEqual([expect.stringContaining(`${victim.digest}: pack ${pack.id} is damaged: blob ${victim.digest}`)]);
    expect(missing).toEqual([absent]);
  });

  it("reports packs a crashed writer left without an index, and prune removes them", async () => {
    const set = blobs(60);
    const repo = await Repository.open(backend);
    const crashed = repo.writer(16 * 1024);
    for (const [digest, bytes] of set) await crashed.add(digest, bytes);
    // Its packs are saved, then the process dies before the index is written (no close()), in
    // the middle of saving one more pack: its temporary file stays, an hour old by now.
    await crashed.flush();
    await mkdir(path.join(root, "packs", "ab"), { recursive: true });
    const halfSaved = path.join(root, "packs", "ab", `${"ab".repeat(32)}.tmp-0badc0de`);
    await writeFile(halfSaved, "half a pack");
    await utimes(halfSaved, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    const saving = path.join(root, "packs", "ab", `${"ab".repeat(32)}.tmp-00c0ffee`); // a live writer's
    await writeFile(saving, "being written");
    const fresh = await Repository.open(backend);
    expect(fresh.has([...set.keys()][0]!)).toBe(false);
    const report = await fresh.verify();
    expect(report.unindexedPacks.length).toBeGreaterThan(0);
    expect(report.damaged).toEqual([]);
    const pruned = await fresh.prune(new Set());
    expect(pruned.unindexedRemoved).toBe(report.unindexedPacks.length);
    expect(pruned.tempsRemoved).toBe(1);
    expect(await stat(halfSaved).then(() => true, () => false)).toBe(false);
    expect(await stat(saving).then(() => true, () => false)).toBe(true);
    await rm(saving);
    expect((await fresh.verify()).unindexedPacks).toEqual([]);
    // And the next backup stores them again.
    await store(fresh, set);
    for (const digest of set.keys()) expect(fresh.has(digest)).toBe(true);
  });

  it("reloads by reading only the index objects added since, and knows only what the target's index objects name", async () => {
    const reads: string[] = [];
    const read = backend.read.bind(backend);
    backend.read = (name, range) => {
      if (name.startsWith("index/")) reads.push(name);
      return read(name, range);
    };
    const first = blobs(30);
    const repo = await Repository.open(backend);
    await store(repo, first);
    await repo.reload();
    expect(reads).toEqual([]); // its own writer's index object is known as saved
    const other = await Repository.open(new LocalBackend(root)); // another worker
    const second = blobs(30, 1);
    await store(other, second);
    reads.length = 0;
    await repo.reload();
    expect(reads).toHaveLength(1); // the other worker's index object only
    for (const digest of second.keys()) expect(repo.has(digest)).toBe(true);
    // Packs this process saved without their index object (a writer that died before close)
    // are in memory only, and a reload forgets them, as a process that starts anew would.
    const crashed = repo.writer(16 * 1024);
    const orphan = blobs(5, 2);
    for (const [digest, bytes] of orphan) await crashed.add(digest, bytes);
    await crashed.flush();
    expect(repo.has([...orphan.keys()][0]!)).toBe(true);
    reads.length = 0;
    await repo.reload();
    expect(reads).toEqual([]);
    for (const digest of orphan.keys()) expect(repo.has(digest)).toBe(false);
    for (const digest of first.keys()) expect(repo.has(digest)).toBe(true);
    // Prune replaces the index objects: the next reload reads the new one.
    await other.prune(new Set(first.keys()));
    await repo.reload();
    for (const digest of first.keys()) expect(repo.has(digest)).toBe(true);
    for (const digest of second.keys()) expect(repo.has(digest)).toBe(false);
    expect([...repo.index.objects]).toEqual([...other.index.objects]);
  });

  it("prune frees unneeded blobs, rewrites mostly-garbage packs and keeps every needed blob", async () => {
    const first = blobs(120, 1);
    const second = blobs(120, 2);
    const repo = await Repository.open(backend);
    await store(repo, first);
    await store(repo, second);
    const before = await repo.listPacks();
    // Keep all of the second set and a tenth of the first.
    const needed = new Set([...second.keys(), ...[...first.keys()].filter((_, i) => i % 10 === 0)]);
    const report = await repo.prune(needed);
    expect(report.packsRemoved + report.packsRewritten).toBeGreaterThan(0);
    expect(report.bytesFreed).toBeGreaterThan(0);
    expect(report.blobsRemoved).toBe(first.size - [...first.keys()].filter((_, i) => i % 10 === 0).length);
    const after = await Repository.open(backend);
    for (const digest of needed) expect(sha256(await after.read(digest))).toBe(digest);
    for (const digest of first.keys()) if (!needed.has(digest)) expect(after.has(digest)).toBe(false);
    const sizeOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(sizeOf(await after.listPacks())).toBeLessThan(sizeOf(before));
    const verified = await after.verify();
    expect(verified).toMatchObject({ damaged: [], missingPacks: [], unindexedPacks: [] });
    // One index object names every pack left.
    const indexes = [];
    for await (const o of backend.list("index/")) indexes.push(o.name);
    expect(indexes).toHaveLength(1);
  });

  it("stores a blob once when two writers of the process take it on side by side, and again once one fails", async () => {
    const set = blobs(80, 3);
    const repo = await Repository.open(backend);
    const [a, b] = [repo.writer(16 * 1024), repo.writer(16 * 1024)];
    const stored = await Promise.all([a, b].map(async (w) => {
      let n = 0;
      for (const [digest, bytes] of set) if (await w.add(digest, bytes)) n++;
      return n;
    }));
    expect(stored[0]! + stored[1]!).toBe(set.size);
    await Promise.all([a.close(), b.close()]);
    const reopened = await Repository.open(backend);
    const copies = [...reopened.index.packs.values()].reduce((n, p) => n + p.blobs.length, 0);
    expect(copies).toBe(set.size);

    // A writer that fails to save releases what it took on, so the next one stores it.
    const fresh = blobs(5, 4);
    const failing = reopened.writer();
    const save = backend.save.bind(backend);
    backend.save = async () => {
      throw new Error("disk full");
    };
    for (const [digest, bytes] of fresh) await failing.add(digest, bytes);
    await expect(failing.close()).rejects.toThrow("disk full");
    backend.save = save;
    const retry = reopened.writer();
    for (const [digest, bytes] of fresh) expect(await retry.add(digest, bytes)).toBeGreaterThan(0);
    await retry.close();
  });
});
