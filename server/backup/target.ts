/**
 * A backup target: a folder that describes itself (docs/backup-target.md).
 *
 *   target.json                 format, server
 *   packs/ab/<sha256>           format 2: message bodies, each once, appended to packs of tens
 *                               of MiB, each pack named by its hash and describing itself
 *   index/<sha256>              format 2: which pack holds each blob (server/repository)
 *   blobs/ab/cd/<sha256>        format 1: one file per message body (read, never written now)
 *   sessions/<label>/           completed sessions only, each renamed into place whole
 *   tmp/<label>/                sessions in progress, failed, aborted or interrupted
 *   accounts-index.json         every account id, every name it had, the sessions holding it,
 *   accounts-index/<label>.json   and what each session published since added to that
 *
 * A session's own files are written without a sync each: the whole session folder is made
 * durable with one syncfs before it is published (a crash before that leaves it in tmp/, never
 * read). Blobs go into packs through the repository (server/repository): each pack is saved
 * atomically and durably, then an index object names the packs of a batch; a crash leaves only
 * packs no index names, which verify reports and prune removes. A session is published only
 * once every blob it names is in the index. Target-level files (target.json, the accounts index)
 * are fsynced one by one.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { execFile } from "node:child_process";
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { gunzip } from "node:zlib";
import { config } from "../config.ts";
import type { BlobStore } from "../mailstore/blob-store.ts";
import { blobIo } from "../repository/blob-io.ts";
import { LocalBackend } from "../repository/local-backend.ts";
import { PackFormatError } from "../repository/pack-format.ts";
import type { PackWriter } from "../repository/pack-writer.ts";
import { Repository } from "../repository/repository.ts";

export const TARGET_FORMAT = 2;

const execFileAsync = promisify(execFile);
const gunzipAsync = promisify(gunzip);

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface FileEntry {
  /** Path relative to the session folder. */
  path: string;
  sha256: string;
  size: number;
}

export async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The manifest entry of a file already on disk. */
export async function hashFile(file: string, relative: string): Promise<FileEntry> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { path: relative, sha256: hash.digest("hex"), size };
}

/** A stream stage that hashes and counts what passes through it. */
export function hashing(): Transform & { digest(): { sha256: string; size: number } } {
  const hash = createHash("sha256");
  let size = 0;
  const stage = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  let result: { sha256: string; size: number } | undefined;
  return Object.assign(stage, { digest: () => (result ??= { sha256: hash.digest("hex"), size }) });
}

const sessionTargets = new Map<string, Promise<BackupTarget>>();
/** One repository (and its index) per target folder in a process, loaded once, reloaded on a miss. */
const repositories = new Map<string, Promise<Repository>>();

/** Drops the process's cached repositories (tests that remove targets; after a prune elsewhere). */
export async function closeRepositories(): Promise<void> {
  const open = [...repositories.values()];
  repositories.clear();
  for (const repo of open) await repo.then((r) => (r.backend as LocalBackend).close?.(), () => {});
}

export class BackupTarget {
  constructor(
    readonly root: string,
    readonly server: string,
  ) {}

  /**
   * The target as one session's jobs in this process see it: what the store holds is learned
   * once per session. Safe because retention (the only thing that removes blobs) refuses to run
   * while a backup runs. `endSession` drops it.
   */
  static forSession(root: string, server: string, label: string): Promise<BackupTarget> {
    const key = `${root}\u0000${label}`;
    let target = sessionTargets.get(key);
    if (!target) {
      const fresh = new BackupTarget(root, server);
      // A session sees the index as it was when it began (and what its own writers add).
      target = fresh.repository({ reload: true }).then(() => fresh);
      sessionTargets.set(key, target);
    }
    return target;
  }

  /** The format-2 blob store of this target; `reload` re-reads its index. */
  async repository(options: { reload?: boolean } = {}): Promise<Repository> {
    let repo = repositories.get(this.root);
    if (!repo) {
      repo = Repository.open(new LocalBackend(this.root));
      repositories.set(this.root, repo);
      repo.catch(() => repositories.delete(this.root));
      return repo;
    }
    const opened = await repo;
    if (options.reload) await opened.reload();
    return opened;
  }

  static endSession(root: string, label: string): void {
    sessionTargets.delete(`${root}\u0000${label}`);
  }

  get sessionsDir(): string {
    return path.join(this.root, "sessions");
  }

  get tmpDir(): string {
    return path.join(this.root, "tmp");
  }

  sessionDir(label: string, state: "tmp" | "complete"): string {
    return path.join(state === "tmp" ? this.tmpDir : this.sessionsDir, label);
  }

  async init(): Promise<void> {
    for (const dir of [this.root, this.sessionsDir, this.tmpDir]) await mkdir(dir, { recursive: true });
    const marker = path.join(this.root, "target.json");
    const existing = await readFile(marker, "utf8").then(JSON.parse, () => null);
    if (existing && existing.server !== this.server) throw new Error(`backup target ${this.root} belongs to server ${existing.server}, not ${this.server}`);
    if (!existing) await this.writeAtomic(marker, Buffer.from(JSON.stringify({ format: TARGET_FORMAT, server: this.server, createdAt: new Date().toISOString() }, null, 2)));
  }

  /** Writes bytes durably under a temporary name, then renames them into place. */
  async writeAtomic(file: string, bytes: Buffer): Promise<{ sha256: string; size: number }> {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  }

  /** Folders this object made (or found) already: a session's files need no mkdir each. */
  private readonly folders = new Set<string>();

  private async folderFor(file: string): Promise<void> {
    const dir = path.dirname(file);
    if (this.folders.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.folders.add(dir);
  }

  /** A file of a session, written whole (made durable by `syncSession`); returns its manifest entry. */
  async writeSessionFile(sessionDir: string, relative: string, bytes: Buffer): Promise<FileEntry> {
    const file = path.join(sessionDir, relative);
    await this.folderFor(file);
    await writeFile(file, bytes).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
      this.folders.delete(path.dirname(file)); // removed behind this object's back
      await this.folderFor(file);
      await writeFile(file, bytes);
    });
    return { path: relative, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  }

  /** One syncfs for everything written under `dir` (the filesystem it lives on). */
  async syncTree(dir: string): Promise<void> {
    await execFileAsync("sync", ["-f", dir]);
  }

  /** A file of a session from a stream (e.g. COPY through gzip); returns its manifest entry. */
  async streamSessionFile(sessionDir: string, relative: string, source: Readable, ...stages: Transform[]): Promise<FileEntry> {
    const file = path.join(sessionDir, relative);
    await this.folderFor(file);
    const hash = hashing();
    await pipeline([source, ...stages, hash, createWriteStream(file)]);
    return { path: relative, ...hash.digest() };
  }

  /** Where format 1 kept a blob, as a file of its own. */
  blobPath(digest: string): string {
    return path.join(this.root, "blobs", digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  /** Whether this target has format-1 blob files at all (asked once: most targets have none). */
  private legacy: Promise<boolean> | undefined;

  private hasLegacyBlobs(): Promise<boolean> {
    // Earlier versions made an empty blobs/ in every target: only one with files in it counts.
    this.legacy ??= readdir(path.join(this.root, "blobs")).then((names) => names.length > 0, () => false);
    return this.legacy;
  }

  /** Whether the target holds the blob: in a pack, or as a format-1 file. */
  async hasBlob(digest: string): Promise<boolean> {
    if ((await this.repository()).has(digest)) return true;
    if (!(await this.hasLegacyBlobs())) return false;
    return stat(this.blobPath(digest)).then(() => true, () => false);
  }

  /** A pack writer for a batch of a session; its `close()` must come before the session is published. */
  async blobWriter(): Promise<PackWriter> {
    return (await this.repository()).writer(config().MAILVAULT_PACK_BYTES);
  }

  /** Stores one blob at once (in a pack of its own); used where there is no session. */
  async putBlob(digest: string, bytes: Buffer): Promise<{ created: boolean; stored: number }> {
    if (await this.hasBlob(digest)) return { created: false, stored: 0 };
    const writer = await this.blobWriter();
    const stored = await writer.add(digest, bytes);
    await writer.close();
    return { created: stored > 0, stored };
  }

  /** A blob's bytes, checked against its digest: from its pack, or from a format-1 file. */
  async readBlob(digest: string): Promise<Buffer> {
    const repo = await this.repository();
    if (repo.has(digest)) return repo.read(digest);
    const raw = await readFile(this.blobPath(digest)).catch(() => null);
    if (raw) {
      const bytes = isGzip(raw) ? await gunzipAsync(raw) : raw;
      if (createHash("sha256").update(bytes).digest("hex") !== digest) throw new Error(`blob ${digest} of the backup target (${this.blobPath(digest)}) is damaged: its content does not hash to its name`);
      return bytes;
    }
    // Written since this process loaded the index (another worker's session)?
    await repo.reload();
    if (repo.has(digest)) return repo.read(digest);
    throw new Error(`blob ${digest} is missing from the backup target`);
  }

  /**
   * Reads many blobs, each pack once and in order (several packs at a time), handing each to
   * `each`; format-1 files are read one by one. Returns the digests the target does not hold.
   */
  async readBlobs(digests: string[], each: (digest: string, bytes: Buffer) => Promise<void>, concurrency = 4): Promise<string[]> {
    const repo = await this.repository();
    if (digests.some((d) => !repo.has(d))) await repo.reload();
    return this.readLegacy(await repo.readMany(digests, each, concurrency), each);
  }

  private async readLegacy(digests: string[], each: (digest: string, bytes: Buffer) => Promise<void>): Promise<string[]> {
    const missing: string[] = [];
    for (const digest of digests) {
      const bytes = await this.readBlob(digest).catch(() => null);
      if (bytes) await each(digest, bytes);
      else missing.push(digest);
    }
    return missing;
  }

  /**
   * Brings blobs back into a blob volume (`volume.root`): those the volume lacks are read from
   * their packs a span at a time, and checked, decompressed and written by the blob I/O threads
   * (blob-io.ts), without a sync each: the caller syncs the volume once before anything that
   * refers to them commits. A damaged blob throws the PackFormatError verify reports; nothing
   * wrong is written. Returns how many were written and the digests the target does not hold.
   */
  async restoreBlobs(digests: string[], volume: BlobStore, signal?: AbortSignal): Promise<{ written: number; missing: string[] }> {
    const io = blobIo();
    const lacking: string[] = [];
    const chunks: string[][] = [];
    for (let i = 0; i < digests.length; i += 512) chunks.push(digests.slice(i, i + 512));
    for (const found of await Promise.all(chunks.map((chunk) => io.run("absent", { root: volume.root, digests: chunk })))) lacking.push(...found);
    const repo = await this.repository();
    if (lacking.some((d) => !repo.has(d))) await repo.reload();
    let written = 0;
    const unpacked = await repo.readSpans(lacking, async (span) => {
      if (signal?.aborted) throw new Error("restore aborted");
      const result = await io.run("unpack", { root: volume.root, span: span.bytes, blobs: span.blobs });
      written += result.written;
      const damage = result.damaged[0];
      if (damage) throw new PackFormatError(span.pack, damage.detail);
    });
    const missing = await this.readLegacy(unpacked, async (digest, bytes) => {
      await volume.put(bytes, digest, { sync: false, knownAbsent: true });
      written++;
    });
    return { written, missing };
  }

  /** Format-1 blob files, for prune. */
  async *listLegacyBlobs(): AsyncGenerator<{ digest: string; path: string }> {
    const base = path.join(this.root, "blobs");
    for (const a of await readdir(base).catch(() => [] as string[])) {
      for (const b of await readdir(path.join(base, a)).catch(() => [] as string[])) {
        for (const name of await readdir(path.join(base, a, b)).catch(() => [] as string[])) {
          if (/^[0-9a-f]{64}$/.test(name)) yield { digest: name, path: path.join(base, a, b, name) };
        }
      }
    }
  }

  async removeTree(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /** The atomic step that makes a session visible: tmp/<label> becomes sessions/<label>. */
  async publish(label: string): Promise<void> {
    await rename(this.sessionDir(label, "tmp"), this.sessionDir(label, "complete"));
    await fsyncPath(this.sessionsDir);
    await fsyncPath(this.tmpDir);
  }

  stream(file: string): Readable {
    return createReadStream(file);
  }
}
