import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { syncFilesystem } from "./sync-filesystem.ts";

describe("syncFilesystem", () => {
  it("syncs a folder, many callers at once, and creates the folder when it is missing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mv-sync-"));
    try {
      await writeFile(path.join(dir, "a"), "bytes");
      await syncFilesystem(dir);
      await Promise.all(Array.from({ length: 20 }, () => syncFilesystem(dir)));
      await syncFilesystem(path.join(dir, "new", "folder"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a folder name it cannot pass on, and answers the next call", async () => {
    await expect(syncFilesystem(path.join(tmpdir(), "bad\nname"))).rejects.toThrow(/line break/);
    await expect(syncFilesystem(tmpdir())).resolves.toBeUndefined();
  });

  it("lets a process with nothing else to do exit", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = `import { syncFilesystem } from ${JSON.stringify(path.resolve("server/fs/sync-filesystem.ts"))}; await syncFilesystem(${JSON.stringify(tmpdir())}); console.log("synced");`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 }).toString();
    expect(out.trim()).toBe("synced");
  });
});
