/**
 * A backup target: a folder that describes itself (docs/backup-target.md).
 *
 *   target.json                 format, server
 *   blobs/ab/cd/<sha256>[.gz]   every message body once, gzip-compressed when that saves space
 *   sessions/<label>/           completed sessions only, each renamed into place whole
 *   tmp/<label>/                sessions in progress, failed, aborted or interrupted
 *   accounts-index.json         every account id, every name it had, the sessions holding it
 *
 * A session's own files are written without a sync each: the whole session folder is made
 * durable with one syncfs before it is published (a crash before that leaves it in tmp/, never
 * read). Blobs new to the target are staged inside the session folder and moved into the shared
 * store only after that sync, so the store never holds a blob that a crash could have left
 * half-written. Target-level files (target.json, the accounts index) are fsynced one by one.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { execFile } from "node:child_process";
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";

export const TARGET_FORMAT = 1;

const execFileAsync = promisify(execFile);

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

export class BackupTarget {
  constructor(
    readonly root: string,
    readonly server: string,
  ) {}

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
    for (const dir of [this.root, this.sessionsDir, this.tmpDir, path.join(this.root, "blobs")]) await mkdir(dir, { recursive: true });
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

  /** A file of a session, written whole (made durable by `syncSession`); returns its manifest entry. */
  async writeSessionFile(sessionDir: string, relative: string, bytes: Buffer): Promise<FileEntry> {
    const file = path.join(sessionDir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
    return { path: relative, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  }

  /** One syncfs for everything written under `dir` (the filesystem it lives on). */
  async syncTree(dir: string): Promise<void> {
    await execFileAsync("sync", ["-f", dir]);
  }

  /** A file of a session from a stream (e.g. COPY through gzip); returns its manifest entry. */
  async streamSessionFile(sessionDir: string, relative: string, source: Readable, ...stages: Transform[]): Promise<FileEntry> {
    const file = path.join(sessionDir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    const hash = hashing();
    await pipeline([source, ...stages, hash, createWriteStream(file)]);
    return { path: relative, ...hash.digest() };
  }

  blobPath(digest: string, compressed: boolean): string {
    return path.join(this.root, "blobs", digest.slice(0, 2), digest.slice(2, 4), compressed ? `${digest}.gz` : digest);
  }

  /** Where a blob is stored, or null when the target does not have it. */
  async findBlob(digest: string): Promise<{ path: string; compressed: boolean } | null> {
    for (const compressed of [false, true]) {
      const p = this.blobPath(digest, compressed);
      if (await stat(p).then(() => true, () => false)) return { path: p, compressed };
    }
    return null;
  }

  private stagedPath(sessionDir: string, digest: string, compressed: boolean): string {
    return path.join(sessionDir, "blobs-staged", digest.slice(0, 2), compressed ? `${digest}.gz` : digest);
  }

  /** Whether a session has already staged this blob (another of its accounts shares it). */
  async isStaged(sessionDir: string, digest: string): Promise<boolean> {
    for (const compressed of [false, true]) if (await stat(this.stagedPath(sessionDir, digest, compressed)).then(() => true, () => false)) return true;
    return false;
  }

  /**
   * Stages a blob new to the target inside the session, checked against its digest, compressed
   * when gzip saves at least a tenth (judged on a sample first, so incompressible attachments cost
   * no gzip pass). Returns the bytes it will take in the store.
   */
  async stageBlob(sessionDir: string, digest: string, bytes: Buffer): Promise<number> {
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== digest) throw new Error(`blob ${digest} has content with digest ${actual}`);
    const sample = bytes.subarray(0, 64 * 1024);
    const worthIt = bytes.length > 512 && gzipSync(sample, { level: 1 }).length < sample.length * 0.9;
    const packed = worthIt ? gzipSync(bytes, { level: 1 }) : null;
    const compressed = packed !== null && packed.length < bytes.length * 0.9;
    const data = compressed ? packed : bytes;
    const file = this.stagedPath(sessionDir, digest, compressed);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
    await writeFile(temp, data);
    await rename(temp, file);
    return data.length;
  }

  /**
   * Moves a session's staged blobs into the shared store (after the session was synced); a blob
   * that reached the store meanwhile is dropped. Returns what was added.
   */
  async commitStagedBlobs(sessionDir: string): Promise<{ count: number; bytes: number }> {
    const staged = path.join(sessionDir, "blobs-staged");
    let count = 0;
    let bytes = 0;
    for (const prefix of await readdir(staged).catch(() => [] as string[])) {
      for (const name of await readdir(path.join(staged, prefix))) {
        const match = /^([0-9a-f]{64})(\.gz)?$/.exec(name);
        if (!match) continue;
        const from = path.join(staged, prefix, name);
        if (await this.findBlob(match[1]!)) continue;
        const to = this.blobPath(match[1]!, Boolean(match[2]));
        await mkdir(path.dirname(to), { recursive: true });
        bytes += (await stat(from)).size;
        await rename(from, to);
        count++;
      }
    }
    await rm(staged, { recursive: true, force: true });
    return { count, bytes };
  }

  /** Stores one blob directly (durably); used where there is no session to stage it in. */
  async putBlob(digest: string, bytes: Buffer): Promise<{ created: boolean; stored: number }> {
    if (await this.findBlob(digest)) return { created: false, stored: 0 };
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== digest) throw new Error(`blob ${digest} has content with digest ${actual}`);
    const written = await this.writeAtomic(this.blobPath(digest, false), bytes);
    return { created: true, stored: written.size };
  }

  async readBlob(digest: string): Promise<Buffer> {
    const found = await this.findBlob(digest);
    if (!found) throw new Error(`blob ${digest} is missing from the backup target`);
    const raw = await readFile(found.path);
    return found.compressed ? gunzipSync(raw) : raw;
  }

  async *listBlobs(): AsyncGenerator<{ digest: string; path: string; compressed: boolean }> {
    const base = path.join(this.root, "blobs");
    for (const a of await readdir(base).catch(() => [] as string[])) {
      for (const b of await readdir(path.join(base, a)).catch(() => [] as string[])) {
        for (const name of await readdir(path.join(base, a, b)).catch(() => [] as string[])) {
          const match = /^([0-9a-f]{64})(\.gz)?$/.exec(name);
          if (match) yield { digest: match[1]!, path: path.join(base, a, b, name), compressed: Boolean(match[2]) };
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
