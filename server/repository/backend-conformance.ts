/**
 * The conformance suite every storage backend passes (backend.ts), after restic's shared backend
 * tests. The repository relies only on what is checked here, so a backend that passes can hold a
 * backup target. A backend's test file calls `describeBackendConformance` with a factory that
 * gives each test a fresh, empty backend and a way to remove it afterwards.
 *
 * The publish tests are races on purpose. A writer saves large objects over and over while
 * readers list and read them without pause, and every object a reader sees must be complete and
 * equal to a version that was written. They make no assumptions about timing: they poll for as
 * long as the writer runs, so a slow machine only means fewer rounds.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectExistsError, ObjectNotFoundError, type ObjectInfo, type StorageBackend } from "./backend.ts";

export interface BackendUnderTest {
  backend: StorageBackend;
  /** Removes whatever the backend stored, and releases it. */
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

async function listed(backend: StorageBackend, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of backend.list(prefix)) out.push(info);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function names(backend: StorageBackend, prefix: string): Promise<string[]> {
  return (await listed(backend, prefix)).map((o) => o.name);
}

export function describeBackendConformance(name: string, make: () => Promise<BackendUnderTest>): void {
  describe(`storage backend conformance: ${name}`, () => {
    let backend: StorageBackend;
    let made: BackendUnderTest;

    beforeEach(async () => {
      made = await make();
      backend = made.backend;
    });
    afterEach(() => made.cleanup());

    describe("save and read", () => {
      it("reads back an empty object, one byte and several MiB", async () => {
        const objects: [string, Buffer][] = [
          ["objects/empty", Buffer.alloc(0)],
          ["objects/one", Buffer.from([0x2a])],
          ["objects/big", randomBytes(5 * MiB + 7)],
        ];
        for (const [n, bytes] of objects) await backend.save(n, bytes);
        for (const [n, bytes] of objects) {
          expect((await backend.read(n)).equals(bytes)).toBe(true);
          expect(await backend.stat(n)).toEqual({ name: n, size: bytes.length });
        }
      });

      it("replaces an object whole, by a smaller one and by a larger one", async () => {
        const first = randomBytes(MiB);
        await backend.save("replace/x", first);
        // Read a range first, so a backend that caches anything for ranges has it cached.
        expect((await backend.read("replace/x", { offset: 1000, length: 100 })).equals(first.subarray(1000, 1100))).toBe(true);

        const smaller = randomBytes(100);
        await backend.save("replace/x", smaller);
        expect((await backend.read("replace/x")).equals(smaller)).toBe(true);
        expect((await backend.read("replace/x", { offset: 0, length: 100 })).equals(smaller)).toBe(true);
        await expect(backend.read("replace/x", { offset: 1000, length: 100 })).rejects.toThrow();
        expect(await backend.stat("replace/x")).toEqual({ name: "replace/x", size: 100 });

        const larger = randomBytes(2 * MiB);
        await backend.save("replace/x", larger);
        expect((await backend.read("replace/x", { offset: MiB, length: 4096 })).equals(larger.subarray(MiB, MiB + 4096))).toBe(true);
        expect((await backend.read("replace/x")).equals(larger)).toBe(true);
        expect(await listed(backend, "replace/")).toEqual([{ name: "replace/x", size: 2 * MiB }]);
      });

      it("lands every one of many concurrent saves of different names", async () => {
        const objects = Array.from({ length: 200 }, (_, i) => ({ name: `many/${(i % 8).toString(16)}${i % 3}/object-${i}`, bytes: randomBytes((i * 331) % 65_536) }));
        await Promise.all(objects.map((o) => backend.save(o.name, o.bytes)));
        expect(await listed(backend, "many/")).toEqual(objects.map((o) => ({ name: o.name, size: o.bytes.length })).sort((a, b) => a.name.localeCompare(b.name)));
        for (const o of objects) expect((await backend.read(o.name)).equals(o.bytes)).toBe(true);
      });

      it("leaves one whole version when saves of one name race", async () => {
        const versions = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
        await Promise.all(versions.map((v) => backend.save("race/one", v)));
        const bytes = await backend.read("race/one");
        expect(versions.some((v) => v.equals(bytes))).toBe(true);
        expect(await names(backend, "race/")).toEqual(["race/one"]);
      });

      it("throws ObjectNotFoundError for a missing object, whole or a range of it", async () => {
        await backend.save("present/x", Buffer.from("x"));
        for (const missing of ["present/y", "absent/y", "present/x/y"]) {
          await expect(backend.read(missing)).rejects.toBeInstanceOf(ObjectNotFoundError);
          await expect(backend.read(missing, { offset: 0, length: 1 })).rejects.toMatchObject({ code: "object_not_found", objectName: missing });
        }
      });
    });

    describe("ranges", () => {
      const bytes = randomBytes(MiB + 13);
      beforeEach(() => backend.save("ranges/pack", bytes));

      it("reads the start, the middle, the end and all of an object", async () => {
        const at = (offset: number, length: number) => backend.read("ranges/pack", { offset, length });
        expect((await at(0, 512)).equals(bytes.subarray(0, 512))).toBe(true);
        expect((await at(400_000, 70_001)).equals(bytes.subarray(400_000, 470_001))).toBe(true);
        expect((await at(bytes.length - 9, 9)).equals(bytes.subarray(-9))).toBe(true);
        expect((await at(0, bytes.length)).equals(bytes)).toBe(true);
        expect((await at(bytes.length, 0)).length).toBe(0);
      });

      it("refuses a range past the end rather than return fewer bytes", async () => {
        for (const range of [
          { offset: bytes.length - 10, length: 11 },
          { offset: bytes.length, length: 1 },
          { offset: bytes.length + 1, length: 0 },
          { offset: -1, length: 4 },
          { offset: 0.5, length: 4 },
        ]) {
          await expect(backend.read("ranges/pack", range), JSON.stringify(range)).rejects.toThrow();
        }
      });
    });

    describe("stat", () => {
      it("gives the size of an object, and null for a missing one or a folder of objects", async () => {
        await backend.save("stat/a/b", Buffer.alloc(321));
        expect(await backend.stat("stat/a/b")).toEqual({ name: "stat/a/b", size: 321 });
        expect(await backend.stat("stat/a/c")).toBeNull();
        expect(await backend.stat("stat/a")).toBeNull();
        expect(await backend.stat("nowhere/at/all")).toBeNull();
      });
    });

    describe("list", () => {
      const objects = { "packs/ab/1": 1, "packs/ab/2": 22, "packs/a1": 3, "packs/b/c/3": 0, "index/x": 5, top: 6 };
      beforeEach(async () => {
        for (const [n, size] of Object.entries(objects)) await backend.save(n, Buffer.alloc(size, 7));
      });

      it("lists nested objects under a folder prefix, with their sizes", async () => {
        expect(await listed(backend, "packs/")).toEqual([
          { name: "packs/a1", size: 3 },
          { name: "packs/ab/1", size: 1 },
          { name: "packs/ab/2", size: 22 },
          { name: "packs/b/c/3", size: 0 },
        ]);
        expect(await names(backend, "packs/ab/")).toEqual(["packs/ab/1", "packs/ab/2"]);
        expect(await names(backend, "")).toEqual(Object.keys(objects).sort((a, b) => a.localeCompare(b)));
      });

      it("matches a prefix that ends in the middle of a name", async () => {
        expect(await names(backend, "packs/a")).toEqual(["packs/a1", "packs/ab/1", "packs/ab/2"]);
        expect(await names(backend, "packs/ab/1")).toEqual(["packs/ab/1"]);
        expect(await names(backend, "to")).toEqual(["top"]);
        expect(await names(backend, "pa")).toHaveLength(4);
      });

      it("lists nothing for a prefix nothing starts with", async () => {
        expect(await names(backend, "packs/zz")).toEqual([]);
        expect(await names(backend, "nothing/")).toEqual([]);
        expect(await names(backend, "top/")).toEqual([]);
        expect(await names(backend, "index/x/")).toEqual([]);
      });
    });

    describe("remove", () => {
      it("removes an object, and removing it again or a never-saved one is no error", async () => {
        await backend.save("rm/a", Buffer.from("a"));
        await backend.save("rm/b", Buffer.from("b"));
        await backend.read("rm/a", { offset: 0, length: 1 });
        await backend.remove("rm/a");
        expect(await backend.stat("rm/a")).toBeNull();
        await expect(backend.read("rm/a")).rejects.toBeInstanceOf(ObjectNotFoundError);
        await expect(backend.read("rm/a", { offset: 0, length: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect(await names(backend, "rm/")).toEqual(["rm/b"]);
        await backend.remove("rm/a");
        await backend.remove("never/saved");
        expect((await backend.read("rm/b")).toString()).toBe("b");
      });
    });

    describe("streams and staged saves", () => {
      async function* chunks(parts: Buffer[], failAfter?: number): AsyncGenerator<Buffer> {
        for (let i = 0; i < parts.length; i++) {
          if (i === failAfter) throw new Error("the source broke");
          yield parts[i]!;
        }
      }

      it("saves an object from a stream of chunks", async () => {
        const parts = [randomBytes(70_000), Buffer.alloc(0), randomBytes(3), randomBytes(2 * MiB)];
        await backend.save("stream/x", chunks(parts));
        expect((await backend.read("stream/x")).equals(Buffer.concat(parts))).toBe(true);
        expect(await backend.stat("stream/x")).toEqual({ name: "stream/x", size: Buffer.concat(parts).length });
      });

      it("keeps the old object when the stream of a new one fails", async () => {
        await backend.save("stream/kept", Buffer.from("old"));
        await expect(backend.save("stream/kept", chunks([randomBytes(MiB), randomBytes(MiB)], 1))).rejects.toThrow("the source broke");
        expect((await backend.read("stream/kept")).toString()).toBe("old");
        await expect(backend.save("stream/never", chunks([randomBytes(10), randomBytes(10)], 1))).rejects.toThrow("the source broke");
        expect(await backend.stat("stream/never")).toBeNull();
        expect(await names(backend, "stream/")).toEqual(["stream/kept"]);
      });

      it("reads staged saves back, whole and in ranges, and flushes them", async () => {
        const bytes = randomBytes(300_000);
        await backend.save("staged/a/b", bytes, { staged: true });
        await backend.save("staged/c", chunks([bytes.subarray(0, 10), bytes.subarray(10)]), { staged: true });
        await backend.flush();
        for (const n of ["staged/a/b", "staged/c"]) {
          expect((await backend.read(n)).equals(bytes)).toBe(true);
          expect((await backend.read(n, { offset: 299_990, length: 10 })).equals(bytes.subarray(299_990))).toBe(true);
        }
        await backend.save("staged/c", Buffer.from("again"), { staged: true });
        expect((await backend.read("staged/c")).toString()).toBe("again");
        expect(await names(backend, "staged/")).toEqual(["staged/a/b", "staged/c"]);
      });

      it("saves a createOnly object that is not there, and over one that is either refuses or replaces it whole", async () => {
        await backend.save("once/new", Buffer.from("first"), { staged: true, createOnly: true });
        expect((await backend.read("once/new")).toString()).toBe("first");
        for (const staged of [true, false]) {
          const second = await backend.save("once/new", Buffer.from("second, longer"), { staged, createOnly: true }).then(
            () => "saved",
            (error: unknown) => (error instanceof ObjectExistsError ? "refused" : Promise.reject(error)),
          );
          // Refused: the object is untouched. Saved (a backend whose saves replace atomically): whole.
          const now = (await backend.read("once/new")).toString();
          expect(second === "refused" ? now === "first" : now === "second, longer").toBe(true);
          if (second === "saved") await backend.save("once/new", Buffer.from("first"));
        }
      });
    });

    describe("folders", () => {
      it("lists the folders right under a folder, not its objects", async () => {
        for (const n of ["f/s1/a", "f/s1/deep/b", "f/s2/c", "f/plain", "g/x/y"]) await backend.save(n, Buffer.from(n));
        expect((await backend.listFolders("f/")).sort()).toEqual(["s1", "s2"]);
        expect((await backend.listFolders("f/s1/")).sort()).toEqual(["deep"]);
        expect((await backend.listFolders("")).sort()).toEqual(["f", "g"]);
        expect(await backend.listFolders("missing/")).toEqual([]);
        expect(await backend.listFolders("f/s2/")).toEqual([]);
        for (const bad of ["f", "/", "../", "f//"]) await expect(backend.listFolders(bad), bad).rejects.toThrow(/invalid/);
      });

      it("removes everything under a folder and nothing beside it", async () => {
        for (const n of ["r/s1/a", "r/s1/deep/b", "r/s1x/c", "r/s2/d"]) await backend.save(n, Buffer.from(n));
        await backend.read("r/s1/a", { offset: 0, length: 1 });
        expect(await backend.removeAll("r/s1/")).toBe(2);
        expect(await names(backend, "r/")).toEqual(["r/s1x/c", "r/s2/d"]);
        await expect(backend.read("r/s1/a", { offset: 0, length: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect((await backend.listFolders("r/")).sort()).toEqual(["s1x", "s2"]);
        expect(await backend.removeAll("r/s1/")).toBe(0);
        // Saving under a removed folder works again.
        await backend.save("r/s1/a", Buffer.from("again"));
        expect((await backend.read("r/s1/a")).toString()).toBe("again");
        for (const bad of ["", "r", "/r/"]) await expect(backend.removeAll(bad), bad).rejects.toThrow(/invalid|refused/);
      });
    });

    describe("names", () => {
      const invalid = ["", "/abs", "a/../b", "..", "../a", "a/..", "./a", "a/./b", "a//b", "a/", "a\u0000b"];

      it("refuses names that are not relative, /-separated, with no empty, . or .. part", async () => {
        for (const bad of invalid) {
          await expect(backend.save(bad, Buffer.from("x")), bad).rejects.toThrow(/invalid object name/);
          await expect(backend.read(bad), bad).rejects.toThrow(/invalid object name/);
          await expect(backend.read(bad, { offset: 0, length: 1 }), bad).rejects.toThrow(/invalid object name/);
          await expect(backend.stat(bad), bad).rejects.toThrow(/invalid object name/);
          await expect(backend.remove(bad), bad).rejects.toThrow(/invalid object name/);
        }
      });

      it("refuses a prefix that no valid name could start with", async () => {
        for (const bad of ["/", "/abs", "../", "a/../", "a//"]) await expect(names(backend, bad), bad).rejects.toThrow(/invalid/);
      });
    });

    describe("publishing", () => {
      // 192 MiB written and read back many times over: on s3rver with the two cores busy it took
      // 41-63 s, so the bound is generous (nothing in it waits on time).
      it("never shows a reader or a lister part of a large object being saved", { timeout: 180_000 }, async () => {
        const size = 32 * MiB;
        const versions = [randomBytes(size), randomBytes(size)];
        const tail = { offset: size - 4096, length: 4096 };
        const isVersion = (bytes: Buffer) => versions.some((v) => v.equals(bytes));
        const isTail = (bytes: Buffer) => versions.some((v) => v.subarray(tail.offset).equals(bytes));
        const problems: string[] = [];
        let writing = true;
        let reads = 0;

        // Saves over one name (replace) and under new names (first publish), alternating versions.
        const writer = (async () => {
          try {
            for (let round = 0; round < 3; round++) {
              await backend.save("atomic/big", versions[round % 2]!);
              await backend.save(`atomic/new-${round}`, versions[round % 2]!);
            }
          } finally {
            writing = false;
          }
        })();

        const reader = async () => {
          // One more pass after the writer stops, so the last versions are checked too.
          for (let last = false; !last; ) {
            last = !writing;
            for await (const o of backend.list("atomic/")) {
              if (!/^atomic\/(big|new-\d)$/.test(o.name)) problems.push(`listed ${o.name}`);
              if (o.size !== size) problems.push(`${o.name} listed with ${o.size} bytes`);
              if (!isVersion(await backend.read(o.name))) problems.push(`${o.name} read back as no version written`);
              if (!isTail(await backend.read(o.name, tail))) problems.push(`${o.name}'s last 4 KiB are no version's`);
              reads++;
            }
          }
        };

        await Promise.all([writer, reader(), reader()]);
        expect(problems).toEqual([]);
        expect(reads).toBeGreaterThanOrEqual(2 * 4);
        expect(await listed(backend, "atomic/")).toEqual(
          ["atomic/big", "atomic/new-0", "atomic/new-1", "atomic/new-2"].map((n) => ({ name: n, size })),
        );
      });

      it("never lists a temporary name while a writer is active", { timeout: 30_000 }, async () => {
        const objects = new Map<string, number>(Array.from({ length: 160 }, (_, i) => [`busy/${i % 6}/o${i}`, (i * 977) % 200_000]));
        const queue = [...objects];
        let writing = true;
        const problems = new Set<string>();
        let listings = 0;

        const writer = async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await backend.save(next[0], Buffer.alloc(next[1], 1));
        };
        const writers = Promise.all([writer(), writer(), writer(), writer()]).finally(() => (writing = false));
        const lister = async () => {
          while (writing) {
            for await (const o of backend.list("busy/")) {
              if (objects.get(o.name) !== o.size) problems.add(`${o.name} (${o.size} bytes)`);
            }
            listings++;
          }
        };

        await Promise.all([writers, lister(), lister()]);
        expect([...problems]).toEqual([]);
        expect(listings).toBeGreaterThan(0);
        expect((await listed(backend, "busy/")).length).toBe(objects.size);
      });
    });
  });
}
