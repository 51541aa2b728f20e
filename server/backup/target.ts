/**
 * A backup target: a folder that describes itself (docs/backup-target.md).
 *
 *   target.json                 format, server
 *   blobs/ab/cd/<sha256>        every message body once, gzip-compressed when that saves space
 *                               (a message never starts with gzip's magic bytes, so the content
 *                               says which: one stat finds a blob)
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
import { gunzip, gzip } from "node:zlib";

export const TARGET_FORMAT = 1;

const execFileAsync = promisify(execFile);
const gzipAsync = promisify(gzip);
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
      target = fresh.loadKnownBlobs().then(() => fresh);
      sessionTargets.set(key, target);
    }
    return target;
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

  blobPath(digest: string): string {
    return path.join(this.root, "blobs", digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  /** Digests known to be in the store, so blobs shared by many accounts are looked up once. */
  private readonly known = new Set<string>();
  /** Digests staged per session folder, and folders already created, to save syscalls per blob. */
  private readonly staged = new Map<string, Set<string>>();
  private readonly madeDirs = new Set<string>();

  private async makeDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /**
   * Learns, from the published sessions' blob lists, which blobs the store holds: a published
   * session's blobs are never pruned while it exists. Saves a stat per blob on later backups.
   */
  async loadKnownBlobs(): Promise<void> {
    for (const label of await readdir(this.sessionsDir).catch(() => [] as string[])) {
      const accounts = path.join(this.sessionsDir, label, "accounts");
      for (const account of await readdir(accounts).catch(() => [] as string[])) {
        const list = await readFile(path.join(accounts, account, "blobs.txt"), "utf8").catch(() => "");
        for (const digest of list.split("\n")) if (digest) this.known.add(digest);
      }
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    if (this.known.has(digest)) return true;
    const found = await stat(this.blobPath(digest)).then(() => true, () => false);
    if (found) this.known.add(digest);
    return found;
  }

  private stagedPath(sessionDir: string, digest: string): string {
    return path.join(sessionDir, "blobs-staged", digest.slice(0, 2), digest);
  }

  /** Whether a session has already staged this blob (another of its accounts shares it). */
  async isStaged(sessionDir: string, digest: string): Promise<boolean> {
    if (this.staged.get(sessionDir)?.has(digest)) return true;
    return stat(this.stagedPath(sessionDir, digest)).then(() => true, () => false);
  }

  /**
   * Stages a blob new to the target inside the session, checked against its digest, compressed
   * (in the thread pool) when gzip saves at least a tenth, judged on a sample first so that
   * incompressible attachments cost no full gzip pass. Returns the bytes it will take.
   */
  async stageBlob(sessionDir: string, digest: string, bytes: Buffer, compress = true): Promise<number> {
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== digest) throw new Error(`blob ${digest} has content with digest ${actual}`);
    if (isGzip(bytes)) throw new Error(`blob ${digest} starts with gzip's magic bytes; a message never does`);
    // Large blobs are judged on a sample first; small ones are simply compressed and compared.
    const sample = bytes.subarray(0, 64 * 1024);
    const worthIt = compress && bytes.length > 512 && (bytes.length <= 256 * 1024 || (await gzipAsync(sample, { level: 1 })).length < sample.length * 0.9);
    const packed = worthIt ? await gzipAsync(bytes, { level: 1 }) : null;
    const data = packed !== null && packed.length < bytes.length * 0.9 ? packed : bytes;
    const file = this.stagedPath(sessionDir, digest);
    await this.makeDir(path.dirname(file));
    const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
    await writeFile(temp, data);
    await rename(temp, file);
    if (!this.staged.has(sessionDir)) this.staged.set(sessionDir, new Set());
    this.staged.get(sessionDir)!.add(digest);
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
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const from = path.join(staged, prefix, name);
        if (await this.hasBlob(name)) continue;
        const to = this.blobPath(name);
        await this.makeDir(path.dirname(to));
        bytes += (await stat(from)).size;
        await rename(from, to);
        this.known.add(name);
        count++;
      }
    }
    await rm(staged, { recursive: true, force: true });
    this.staged.delete(sessionDir);
    this.madeDirs.clear();
    return { count, bytes };
  }

  /** Stores one blob directly (durably); used where there is no session to stage it in. */
  async putBlob(digest: string, bytes: Buffer): Promise<{ created: boolean; stored: number }> {
    if (await this.hasBlob(digest)) return { created: false, stored: 0 };
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== digest) throw new Error(`blob ${digest} has content with digest ${actual}`);
    const written = await this.writeAtomic(this.blobPath(digest), bytes);
    this.known.add(digest);
    return { created: true, stored: written.size };
  }

  /** Forgets what it knew of the store (after blobs were pruned). */
  forgetKnownBlobs(): void {
    this.known.clear();
    this.madeDirs.clear();
  }

  async readBlob(digest: string): Promise<Buffer> {
    const raw = await readFile(this.blobPath(digest)).catch(() => null);
    if (!raw) throw new Error(`blob ${digest} is missing from the backup target`);
    return isGzip(raw) ? gunzipAsync(raw) : raw;
  }

  async *listBlobs(): AsyncGenerator<{ digest: string; path: string }> {
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
