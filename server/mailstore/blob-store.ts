/**
 * A server's blob volume: message bodies as files named by their sha256, two directory levels
 * deep (`ab/cd/abcd...`), shared by every mailbox that received the same bytes. A blob is
 * written to a temporary file, fsynced and renamed into place, and its folder fsynced, so a
 * reader never sees half a blob and a crash leaves at most a stray temporary file. Blobs are
 * written before the transaction that refers to them commits; one whose transaction aborted is
 * only unreferenced.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { syncFilesystem } from "../fs/sync-filesystem.ts";
import { syncFolder } from "../fs/sync-folder.ts";

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export class BlobStore {
  /** Folders known to exist, to spare a mkdir per blob on bulk paths. */
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {}

  path(digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return path.join(this.root, digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Stores bytes under their digest; does nothing when the blob is already there. With
   * `sync: false` (bulk restores) the caller makes the volume durable once with `syncVolume`
   * before anything that refers to the blobs commits.
   */
  async put(bytes: Buffer, digest = sha256(bytes), options: { sync?: boolean; knownAbsent?: boolean } = {}): Promise<{ digest: string; size: number; created: boolean }> {
    const target = this.path(digest);
    const dir = path.dirname(target);
    const sync = options.sync ?? true;
    if (!options.knownAbsent && (await this.has(digest))) {
      // Named by a put that may not have synced its folder yet (the same bytes delivered twice at once).
      if (sync) await syncFolder(dir);
      return { digest, size: bytes.length, created: false };
    }
    /** The first folder this call made, if it made any: its entry must be made durable too. */
    let made: string | undefined;
    if (!this.dirs.has(dir)) {
      made = await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    const temp = path.join(dir, `.tmp-${digest.slice(0, 8)}-${randomBytes(6).toString("hex")}`);
    const file = await open(temp, "wx").catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
      made = await mkdir(dir, { recursive: true }); // the folder went away (a volume being rebuilt)
      return open(temp, "wx");
    });
    try {
      await file.writeFile(bytes);
      if (sync) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
    if (sync) {
      // The blob's name, and those of folders made for it, are durable before the caller
      // commits anything that refers to the blob; the file's own fsync covered its bytes only.
      await syncFolder(dir);
      for (let d = dir; made && d.length >= made.length; d = path.dirname(d)) await syncFolder(path.dirname(d));
    }
    return { digest, size: bytes.length, created: true };
  }

  /** One syncfs for the volume: everything written to it is on disk afterwards. */
  async syncVolume(): Promise<void> {
    await syncFilesystem(this.root);
  }

  async read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  stream(digest: string) {
    return createReadStream(this.path(digest));
  }
}
