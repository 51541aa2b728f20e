import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectExistsError, ObjectNotFoundError } from "./backend.ts";
import { describeBackendConformance } from "./backend-conformance.ts";
import { LocalBackend, ObjectRangeError, UnsafeObjectPathError } from "./local-backend.ts";

describeBackendConformance("local folder", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-backend-"));
  // The root does not exist yet: the first save makes it.
  const backend = new LocalBackend(path.join(dir, "target"));
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("LocalBackend", () => {
  let dir: string;
  let root: string;
  let backend: LocalBackend;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-local-backend-"));
    root = path.join(dir, "target");
    backend = new LocalBackend(root);
  });

  afterEach(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  const files = async () => (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => !e.isDirectory()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));

  it("saves a stream of many small chunks and a few large ones byte for byte, staged or not", async () => {
    const chunks = [...Array.from({ length: 3000 }, (_, i) => randomBytes(1 + (i % 13))), randomBytes(3 * 1024 * 1024), Buffer.alloc(0), randomBytes(5)];
    async function* stream() {
      yield* chunks;
    }
    await backend.save("packs/ab/many", stream());
    await backend.save("sessions/s/many", stream(), { staged: true });
    expect((await backend.read("packs/ab/many")).equals(Buffer.concat(chunks))).toBe(true);
    expect((await backend.read("sessions/s/many")).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("never rewrites in place an object a staged createOnly save finds there, small or large", async () => {
    for (const bytes of [Buffer.from("small"), randomBytes(2 * 1024 * 1024)]) {
      await backend.save("dumps/ab/x", Buffer.from("kept"));
      await expect(backend.save("dumps/ab/x", bytes, { staged: true, createOnly: true })).rejects.toBeInstanceOf(ObjectExistsError);
      expect((await backend.read("dumps/ab/x")).toString()).toBe("kept");
      await backend.remove("dumps/ab/x");
      await backend.save("dumps/ab/x", bytes, { staged: true, createOnly: true });
      expect((await backend.read("dumps/ab/x")).equals(bytes)).toBe(true);
      await backend.remove("dumps/ab/x");
    }
  });

  it("makes a staged small save's folders, and again after they are removed behind its back", async () => {
    await backend.save("dumps/ab/one", Buffer.from("one"), { staged: true, createOnly: true });
    await backend.save("dumps/ab/two", Buffer.alloc(0), { staged: true });
    expect((await files()).sort()).toEqual(["dumps/ab/one", "dumps/ab/two"]);
    expect((await backend.read("dumps/ab/two")).length).toBe(0);
    await rm(path.join(root, "dumps"), { recursive: true });
    await backend.save("dumps/ab/three", Buffer.from("three"), { staged: true, createOnly: true });
    expect(await files()).toEqual(["dumps/ab/three"]);
    expect((await backend.read("dumps/ab/three")).toString()).toBe("three");
  });

  describe("temp files", () => {
    it("keeps objects at their names and leaves no temp file behind a save", async () => {
      await backend.save("packs/ab/one", Buffer.from("1"));
      await backend.save("packs/ab/one", Buffer.from("2"));
      await backend.save("index/i", Buffer.from("3"));
      expect((await files()).sort()).toEqual(["index/i", "packs/ab/one"]);
      expect(await readFile(path.join(root, "packs/ab/one"), "utf8")).toBe("2");
    });

    it("does not list a crashed writer's temp file, nor take its name as an object's", async () => {
      await backend.save("packs/ab/one", Buffer.from("1"));
      await writeFile(path.join(root, "packs/ab/two.tmp-0a1b2c3d"), "half");
      expect(await collect(backend.list("packs/"))).toEqual([{ name: "packs/ab/one", size: 1 }]);
      await expect(backend.read("packs/ab/two.tmp-0a1b2c3d")).rejects.toThrow(/invalid object name/);
      await expect(backend.save("packs/ab/x.tmp-00000000", Buffer.from("x"))).rejects.toThrow(/invalid object name/);
    });

    it("removes stale temp files and keeps recent ones, objects and look-alikes", async () => {
      await backend.save("packs/ab/one", Buffer.from("1"));
      await mkdir(path.join(root, "sessions/s1"), { recursive: true });
      const stale = ["packs/ab/two.tmp-0a1b2c3d", "sessions/s1/session.json.tmp-deadbeef", "top.tmp-12345678"];
      const kept = ["packs/ab/three.tmp-99999999", "packs/ab/four.tmp-nothex00"];
      for (const f of [...stale, ...kept]) await writeFile(path.join(root, f), "half");
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const f of [...stale, kept[1]!]) await utimes(path.join(root, f), hourAgo, hourAgo);

      expect((await backend.removeStaleTemps(60_000)).sort()).toEqual([...stale].sort());
      expect((await files()).sort()).toEqual(["packs/ab/four.tmp-nothex00", "packs/ab/one", "packs/ab/three.tmp-99999999"]);
    });

    it("finds nothing to sweep in a root that does not exist yet", async () => {
      expect(await backend.removeStaleTemps(0)).toEqual([]);
    });
  });

  describe("read handles", () => {
    it("opens a pack once for 1000 range reads", async () => {
      const pack = randomBytes(4 * 1024 * 1024);
      await backend.save("packs/ab/p", pack);
      for (let i = 0; i < 1000; i++) {
        const offset = (i * 7919 * 13) % (pack.length - 5000);
        const length = 1 + ((i * 31) % 5000);
        expect((await backend.read("packs/ab/p", { offset, length })).equals(pack.subarray(offset, offset + length))).toBe(true);
      }
      // And as many again, all at once.
      const parallel = await Promise.all(Array.from({ length: 1000 }, (_, i) => backend.read("packs/ab/p", { offset: i * 100, length: 100 })));
      parallel.forEach((bytes, i) => expect(bytes.equals(pack.subarray(i * 100, i * 100 + 100))).toBe(true));
      expect(backend.handleStats()).toEqual({ open: 1, opened: 1 });
    });

    it("reads the new object after a save over a cached one, and nothing after a remove", async () => {
      await backend.save("packs/ab/p", Buffer.from("old bytes"));
      expect((await backend.read("packs/ab/p", { offset: 0, length: 3 })).toString()).toBe("old");
      await backend.save("packs/ab/p", Buffer.from("new bytes!"));
      expect(backend.handleStats().open).toBe(0);
      expect((await backend.read("packs/ab/p", { offset: 0, length: 10 })).toString()).toBe("new bytes!");
      await backend.remove("packs/ab/p");
      expect(backend.handleStats().open).toBe(0);
      await expect(backend.read("packs/ab/p", { offset: 0, length: 3 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(backend.handleStats().opened).toBe(2);
    });

    it("keeps at most maxOpenFiles handles, closing the least recently used", async () => {
      const small = new LocalBackend(root, { maxOpenFiles: 4 });
      try {
        for (let i = 0; i < 10; i++) await small.save(`packs/p${i}`, Buffer.from(`pack ${i}`));
        for (let i = 0; i < 10; i++) await small.read(`packs/p${i}`, { offset: 0, length: 4 });
        expect(small.handleStats()).toEqual({ open: 4, opened: 10 });
        await small.read("packs/p9", { offset: 5, length: 1 });
        await small.read("packs/p6", { offset: 5, length: 1 });
        expect(small.handleStats().opened).toBe(10);
        await small.read("packs/p0", { offset: 5, length: 1 });
        expect(small.handleStats()).toEqual({ open: 4, opened: 11 });
        await small.close();
        expect(small.handleStats().open).toBe(0);
        expect((await small.read("packs/p6", { offset: 0, length: 6 })).toString()).toBe("pack 6");
      } finally {
        await small.close();
      }
    });

    it("refuses a range of a file cut short underneath it instead of returning fewer bytes", async () => {
      await backend.save("packs/ab/p", Buffer.alloc(1000, 1));
      await backend.read("packs/ab/p", { offset: 0, length: 10 });
      await truncate(path.join(root, "packs/ab/p"), 500);
      const error = await backend.read("packs/ab/p", { offset: 400, length: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ObjectRangeError);
      expect(error).toMatchObject({ objectName: "packs/ab/p", size: 500 });
    });

    it("names the object's size when a range runs past its end", async () => {
      await backend.save("packs/ab/p", Buffer.alloc(100));
      const error = await backend.read("packs/ab/p", { offset: 90, length: 20 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ObjectRangeError);
      expect((error as Error).message).toBe(`packs/ab/p in ${root} has 100 bytes; 20 bytes at offset 90 were asked for`);
    });
  });

  describe("containment", () => {
    let outside: string;
    beforeEach(async () => {
      outside = path.join(dir, "outside");
      await mkdir(outside);
      await writeFile(path.join(outside, "secret"), "secret");
      await backend.save("packs/ab/p", Buffer.from("p"));
    });

    it("refuses names that climb out of the root", async () => {
      await expect(backend.read("../outside/secret")).rejects.toThrow(/invalid object name/);
      await expect(backend.save("packs/../../outside/x", Buffer.from("x"))).rejects.toThrow(/invalid object name/);
      await expect(backend.read(path.join(outside, "secret"))).rejects.toThrow(/invalid object name/);
    });

    it("follows no link to a folder outside the root", async () => {
      await symlink(outside, path.join(root, "link"));
      await expect(backend.read("link/secret")).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.read("link/secret", { offset: 0, length: 1 })).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.stat("link/secret")).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.save("link/planted", Buffer.from("x"))).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.save("link/deeper/planted", Buffer.from("x"))).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.remove("link/secret")).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(collect(backend.list("link/"))).rejects.toBeInstanceOf(UnsafeObjectPathError);
      expect(await collect(backend.list(""))).toEqual([{ name: "packs/ab/p", size: 1 }]);
      expect((await readdir(outside)).sort()).toEqual(["secret"]);
    });

    it("follows no link to a file outside the root", async () => {
      await symlink(path.join(outside, "secret"), path.join(root, "packs/ab/q"));
      await expect(backend.read("packs/ab/q")).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.read("packs/ab/q", { offset: 0, length: 1 })).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.stat("packs/ab/q")).rejects.toBeInstanceOf(UnsafeObjectPathError);
      expect(await collect(backend.list("packs/"))).toEqual([{ name: "packs/ab/p", size: 1 }]);
      // Saving over the link replaces the link itself; the file it pointed at is untouched.
      await backend.save("packs/ab/q", Buffer.from("q"));
      expect((await backend.read("packs/ab/q")).toString()).toBe("q");
      expect(await readFile(path.join(outside, "secret"), "utf8")).toBe("secret");
    });

    it("writes no staged save through a link, to a folder or to a file", async () => {
      await symlink(outside, path.join(root, "link"));
      await symlink(path.join(outside, "secret"), path.join(root, "packs/ab/q"));
      await expect(backend.save("link/planted", Buffer.from("x"), { staged: true })).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.save("link/deeper/planted", Buffer.from("x"), { staged: true, createOnly: true })).rejects.toBeInstanceOf(UnsafeObjectPathError);
      await expect(backend.save("packs/ab/q", Buffer.from("x"), { staged: true })).rejects.toBeInstanceOf(UnsafeObjectPathError);
      expect((await readdir(outside)).sort()).toEqual(["secret"]);
      expect(await readFile(path.join(outside, "secret"), "utf8")).toBe("secret");
    });

    it("sweeps no temp file through a link", async () => {
      await writeFile(path.join(outside, "x.tmp-0a1b2c3d"), "half");
      await utimes(path.join(outside, "x.tmp-0a1b2c3d"), new Date(0), new Date(0));
      await symlink(outside, path.join(root, "link"));
      expect(await backend.removeStaleTemps(0)).toEqual([]);
      expect((await readdir(outside)).sort()).toEqual(["secret", "x.tmp-0a1b2c3d"]);
    });
  });

  describe("freeSpace", () => {
    it("measures the filesystem holding the root, even before the root exists", async () => {
      const before = await backend.freeSpace();
      expect(before.bytes).toBeGreaterThan(0);
      expect(before.total).toBeGreaterThanOrEqual(before.bytes);
      await backend.save("x", Buffer.from("x"));
      expect((await backend.freeSpace()).total).toBe(before.total);
    });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
