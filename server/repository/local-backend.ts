/**
 * The local-folder storage backend: each object is a file under the root, at its `/`-separated
 * name.
 *
 * Publishing. `save` writes `<name>.tmp-<8 hex>` beside the object, fsyncs it, renames it over the
 * name and fsyncs the folder. rename(2) swaps the name in one step, so a reader or a listing sees
 * the old object, the new one or none, never part of one. `list` hides names that end like a temp
 * file, and such names are refused as object names. Temp files that a crashed writer left behind
 * are for `removeStaleTemps`. Folders are created one level at a time and remembered, so a burst
 * of saves into `packs/ab/` makes the folder once.
 *
 * Reading. A restore reads thousands of ranges from the same few packs, so range reads go through
 * a small LRU cache of open handles. A saved object is never written again in place: a save puts
 * a new file (a new inode) under the name. So a handle's size is fixed, and the only way it goes
 * stale is a save over its name or a remove. Both drop the cached handle. An open that was already
 * under way when that happened still serves the reads that were waiting for it, since they began
 * before the change, but it is not cached. A handle in use when it is evicted is closed once its
 * last read is done.
 *
 * Containment. Names go through `checkObjectName`, so `..` and absolute names never reach the
 * filesystem. Symbolic links are refused rather than followed: each folder on an object's path is
 * lstat'ed once (then remembered), object files are opened with O_NOFOLLOW, and listings and the
 * temp sweep skip links. This stops links that are already in the folder. It does not stop an
 * attacker who swaps a checked folder for a link while the backend runs. The root itself is
 * configuration and may be a link.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, writeSync, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, stat, statfs, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { syncFilesystem } from "../fs/sync-filesystem.ts";
import { syncFolder } from "../fs/sync-folder.ts";
import { checkFolderName, checkObjectName, ObjectExistsError, ObjectNotFoundError, ObjectRangeError, wholeWithin, type ObjectInfo, type SaveOptions, type StorageBackend } from "./backend.ts";

export { ObjectRangeError };


/**
 * A staged save of bytes up to this size (a session's small files) is written, and a whole
 * object up to it read, with synchronous calls on the caller's thread: a full of 400 accounts
 * writes about 1,200 of them, and three trips each through libuv's pool cost the main thread more
 * than the writes themselves (on two busy cores, writing them through the pool with callbacks
 * did not make the full faster either: docs/backup-target.md).
 */
const SYNC_BYTES = 1024 * 1024;

/** How a temp file is named while `save` writes it: `<name>.tmp-<8 hex>` (as BackupTarget's). */
export const TEMP_NAME = /\.tmp-[0-9a-f]{8}$/;

/** An object's path passes through a symbolic link; the backend follows none, so nothing outside its root is reachable. */
export class UnsafeObjectPathError extends Error {
  readonly code = "object_path_unsafe";
  constructor(
    readonly location: string,
    readonly objectName: string,
  ) {
    super(`${objectName} in ${location} passes through a symbolic link; the backend follows none, so nothing outside its folder can be reached`);
  }
}

export interface LocalBackendOptions {
  /** Read handles kept open for range reads, least recently used closed first. Default 16. */
  maxOpenFiles?: number;
}

interface CachedHandle {
  handle: FileHandle;
  size: number;
  /** Reads using the handle right now; a retired handle is closed when this drops to 0. */
  users: number;
  retired: boolean;
}

interface PendingOpen {
  promise: Promise<CachedHandle>;
  waiters: number;
  /** Its object was saved over or removed while it opened: serve the waiters, cache nothing. */
  stale: boolean;
}

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;
const isMissing = (error: unknown): boolean => errno(error) === "ENOENT" || errno(error) === "ENOTDIR";

export class LocalBackend implements StorageBackend {
  readonly location: string;
  readonly createsAtomically = true;
  private readonly root: string;
  /** Folders (relative, "" for the root) known to exist and not to be links. */
  private readonly folders = new Set<string>();
  private readonly checkingFolders = new Map<string, Promise<boolean>>();
  private readonly handles: ReadHandleCache;
  /** Temp files this process is writing now, which `removeStaleTemps` must leave alone. */
  private readonly writing = new Set<string>();

  constructor(root: string, options: LocalBackendOptions = {}) {
    this.root = path.resolve(root);
    this.location = this.root;
    this.handles = new ReadHandleCache(Math.max(1, options.maxOpenFiles ?? 16));
  }

  async save(name: string, data: Buffer | AsyncIterable<Uint8Array>, options: SaveOptions = {}): Promise<void> {
    const { folder, file } = this.resolve(name);
    await this.ensureFolder(folder, options.staged ? "staged" : "durable");
    if (options.staged) return this.saveInPlace(name, file, folder, data, options.createOnly === true);
    await this.syncStagedFolders(folder);
    const temp = await this.writeTemp(file, data, folder);
    try {
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    } finally {
      this.writing.delete(temp);
    }
    this.handles.invalidate(name);
    await syncFolder(path.dirname(file));
  }

  /**
   * A staged save writes the object at its name, with no temp file and no fsync: a session writes
   * thousands of small files, and its manifest.sha256, saved last, is what commits them.
   */
  private async saveInPlace(name: string, file: string, folder: string, data: Buffer | AsyncIterable<Uint8Array>, createOnly: boolean): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (createOnly ? constants.O_EXCL : constants.O_TRUNC);
    if (!Buffer.isBuffer(data)) data = await wholeWithin(data, SYNC_BYTES);
    if (Buffer.isBuffer(data) && data.length <= SYNC_BYTES) {
      // Plain calls: three through libuv's pool cost the main thread more than the writing does.
      let fd: number;
      try {
        fd = openSync(file, flags, 0o644);
      } catch (error) {
        if (errno(error) === "ELOOP") throw new UnsafeObjectPathError(this.location, name);
        if (errno(error) === "EEXIST") throw new ObjectExistsError(this.location, name);
        if (errno(error) !== "ENOENT") throw error;
        this.folders.clear();
        await this.ensureFolder(folder, "staged");
        fd = openSync(file, flags, 0o644);
      }
      this.handles.invalidate(name);
      try {
        for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
        closeSync(fd);
      } catch (error) {
        try {
          closeSync(fd);
        } catch {
          // already closed, or the write's error is the one to report
        }
        await rm(file, { force: true });
        throw error;
      }
      return;
    }
    const handle = await open(file, flags, 0o644).catch(async (error: unknown) => {
      if (errno(error) === "ELOOP") throw new UnsafeObjectPathError(this.location, name);
      if (errno(error) === "EEXIST") throw new ObjectExistsError(this.location, name);
      if (errno(error) !== "ENOENT") throw error;
      // A folder we remembered was removed behind our back: check again and make it.
      this.folders.clear();
      await this.ensureFolder(folder, "staged");
      return open(file, flags, 0o644);
    });
    this.handles.invalidate(name);
    try {
      await writeAll(handle, data);
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(file, { force: true });
      throw error;
    }
  }

  async flush(): Promise<void> {
    if (!(await this.ensureFolder("", "check"))) return;
    // syncfs(2) of the filesystem holding the root: every staged file and folder.
    const folders = [...this.unsynced];
    await syncFilesystem(this.root);
    for (const level of folders) this.unsynced.delete(level);
  }

  async listFolders(folder: string): Promise<string[]> {
    checkFolderName(folder);
    const parent = folder.slice(0, -1);
    if (!(await this.ensureFolder(parent, "check"))) return [];
    const entries = await readdir(path.join(this.root, ...(parent ? parent.split("/") : [])), { withFileTypes: true }).catch((error) => (isMissing(error) ? [] : Promise.reject(error)));
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  async removeAll(folder: string): Promise<number> {
    if (checkFolderName(folder) === "") throw new Error(`removeAll of the whole of ${this.location} is refused`);
    const level = folder.slice(0, -1);
    if (!(await this.ensureFolder(level, "check"))) return 0;
    let count = 0;
    for await (const { stats, temp } of this.walk(level, "")) if (!temp && stats.isFile()) count++;
    const abs = path.join(this.root, ...level.split("/"));
    // rm does not follow links inside the folder, and ensureFolder checked the folder itself.
    await rm(abs, { recursive: true, force: true });
    for (const known of [...this.folders]) if (known === level || known.startsWith(folder)) this.folders.delete(known);
    for (const known of [...this.unsynced]) if (known === level || known.startsWith(folder)) this.unsynced.delete(known);
    this.handles.invalidatePrefix(folder);
    await syncFolder(path.dirname(abs));
    return count;
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const { folder, file } = this.resolve(name);
    if (!range) return this.readWhole(name, folder, file);
    const { offset, length } = range;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid range ${JSON.stringify(range)} for ${name} in ${this.location}`);
    }
    const entry = await this.handles.acquire(name, () => this.openForCache(name, folder, file));
    try {
      if (offset + length > entry.size) throw new ObjectRangeError(this.location, name, range, entry.size);
      const out = Buffer.allocUnsafe(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await entry.handle.read(out, done, length - done, offset + done);
        // Only if the file was cut short underneath us: never hand back part of a range.
        if (bytesRead === 0) throw new ObjectRangeError(this.location, name, range, offset + done);
        done += bytesRead;
      }
      return out;
    } finally {
      this.handles.release(entry);
    }
  }

  async stat(name: string): Promise<ObjectInfo | null> {
    const { folder, file } = this.resolve(name);
    if (!(await this.ensureFolder(folder, "check"))) return null;
    const stats = await lstat(file).catch((error) => (isMissing(error) ? null : Promise.reject(error)));
    if (stats?.isSymbolicLink()) throw new UnsafeObjectPathError(this.location, name);
    return stats?.isFile() ? { name, size: stats.size } : null;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // A prefix may end mid-name ("packs/a"), or be empty: it is valid when a name could follow it.
    try {
      checkObjectName(`${prefix}x`);
    } catch {
      throw new Error(`invalid object prefix ${JSON.stringify(prefix)}`);
    }
    const cut = prefix.lastIndexOf("/");
    const folder = cut < 0 ? "" : prefix.slice(0, cut);
    if (!(await this.ensureFolder(folder, "check"))) return;
    for await (const { name, stats, temp } of this.walk(folder, prefix.slice(cut + 1))) {
      if (!temp && stats.isFile()) yield { name, size: stats.size };
    }
  }

  async remove(name: string): Promise<void> {
    const { folder, file } = this.resolve(name);
    if (!(await this.ensureFolder(folder, "check"))) return;
    try {
      await unlink(file);
    } catch (error) {
      // A folder is not an object, so there is no such object to remove.
      if (isMissing(error) || errno(error) === "EISDIR") return;
      throw error;
    } finally {
      this.handles.invalidate(name);
    }
    // Durable like save: prune removes an index before the packs it names, and that order must
    // hold after a crash too.
    await syncFolder(path.dirname(file));
  }

  /** Free and total bytes of the filesystem holding the root (or its nearest existing parent). */
  async freeSpace(): Promise<{ bytes: number; total: number }> {
    for (let at = this.root; ; at = path.dirname(at)) {
      try {
        const fs = await statfs(at);
        return { bytes: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
      } catch (error) {
        if (!isMissing(error) || path.dirname(at) === at) throw error;
      }
    }
  }

  /**
   * Removes the temp files (`*.tmp-<8 hex>`) that writers which died left behind, last modified
   * more than `olderThanMs` ago and not being written by this backend. Returns their relative
   * paths (under `folder`, or the whole root). A live writer in another process keeps its temp
   * file recent, so pick an age well past the longest save.
   */
  async removeStaleTemps(olderThanMs: number, folder = ""): Promise<string[]> {
    const removed: string[] = [];
    if (folder) checkObjectName(folder);
    if (!(await this.ensureFolder(folder, "check"))) return removed;
    const before = Date.now() - olderThanMs;
    for await (const { name, stats, temp } of this.walk(folder, "")) {
      const file = path.join(this.root, ...name.split("/"));
      if (!temp || !stats.isFile() || stats.mtimeMs > before || this.writing.has(file)) continue;
      await unlink(file).then(
        () => removed.push(name),
        (error) => (isMissing(error) ? undefined : Promise.reject(error)),
      );
    }
    return removed;
  }

  /** Open read handles and how many were ever opened: for tests and diagnostics. */
  handleStats(): { open: number; opened: number } {
    return { open: this.handles.size, opened: this.handles.opened };
  }

  /** Closes every cached read handle; ones in use close when their read ends. The backend stays usable. */
  close(): Promise<void> {
    return this.handles.closeAll();
  }

  private resolve(name: string): { folder: string; file: string } {
    const parts = checkObjectName(name).split("/");
    if (TEMP_NAME.test(parts.at(-1)!)) throw new Error(`invalid object name ${JSON.stringify(name)}: it ends like a temp file`);
    return { folder: parts.slice(0, -1).join("/"), file: path.join(this.root, ...parts) };
  }

  /** Folders made for staged saves, whose names are durable only after the next flush. */
  private readonly unsynced = new Set<string>();

  /** A durable save into a folder a staged save made: that folder's name must be durable first. */
  private async syncStagedFolders(folder: string): Promise<void> {
    if (this.unsynced.size === 0) return;
    const parts = folder === "" ? [] : folder.split("/");
    for (let depth = 1; depth <= parts.length; depth++) {
      const level = parts.slice(0, depth).join("/");
      if (!this.unsynced.has(level)) continue;
      await syncFolder(path.dirname(path.join(this.root, ...parts.slice(0, depth))));
      this.unsynced.delete(level);
    }
  }

  /**
   * Whether the folder exists below the root with no link on the way, checked one level at a time;
   * with `create`, missing levels are made: "durable" fsyncs each new level's parent, so it
   * survives a crash; "staged" leaves that to the next flush.
   */
  private async ensureFolder(folder: string, mode: "check" | "durable" | "staged"): Promise<boolean> {
    if (this.folders.has(folder)) return true;
    const parts = folder === "" ? [] : folder.split("/");
    for (let depth = 0; depth <= parts.length; depth++) {
      const level = parts.slice(0, depth).join("/");
      if (this.folders.has(level)) continue;
      const key = `${mode}:${level}`;
      let check = this.checkingFolders.get(key);
      if (!check) {
        check = this.checkFolder(level, mode).finally(() => this.checkingFolders.delete(key));
        this.checkingFolders.set(key, check);
      }
      if (!(await check)) return false;
    }
    return true;
  }

  private async checkFolder(level: string, mode: "check" | "durable" | "staged"): Promise<boolean> {
    const create = mode !== "check";
    const abs = path.join(this.root, ...level.split("/"));
    if (level === "") {
      if (create) {
        const made = await mkdir(abs, { recursive: true });
        for (let d = abs; made && d.length >= made.length; d = path.dirname(d)) await syncFolder(path.dirname(d));
      }
      const stats = await stat(abs).catch((error) => (isMissing(error) ? null : Promise.reject(error)));
      if (!stats?.isDirectory()) return false;
    } else if (mode === "staged") {
      // A session's new folders (one per account) with plain calls, like its small files: mkdir
      // at once, and a look only when the folder was there already. (A check stays a trip
      // through the pool: a reader polling for an object must leave the event loop a turn.)
      try {
        mkdirSync(abs);
        this.unsynced.add(level);
        this.folders.add(level);
        return true;
      } catch (error) {
        if (errno(error) !== "EEXIST") return this.checkFolderAsync(level, abs, mode);
      }
      const stats = lstatSync(abs);
      if (stats.isSymbolicLink()) throw new UnsafeObjectPathError(this.location, level);
      if (!stats.isDirectory()) return true;
    } else return this.checkFolderAsync(level, abs, mode);
    this.folders.add(level);
    return true;
  }

  /** checkFolder for a level below the root, through the pool (and for a durable save, synced). */
  private async checkFolderAsync(level: string, abs: string, mode: "check" | "durable" | "staged"): Promise<boolean> {
    const create = mode !== "check";
    const made = async () => {
      if (mode === "staged") this.unsynced.add(level);
      else await syncFolder(path.dirname(abs));
    };
    let stats = await lstat(abs).catch((error) => (isMissing(error) ? null : Promise.reject(error)));
    if (!stats && create) {
      await mkdir(abs).then(
        made,
        async (error) => {
          if (errno(error) === "EEXIST") return;
          if (errno(error) !== "ENOENT") throw error;
          // A parent we remembered was removed behind our back (a target wiped and made
          // again): forget what we knew and check every level again.
          this.folders.clear();
          const parent = level.split("/").slice(0, -1).join("/");
          if (!(await this.ensureFolder(parent, mode))) throw error;
          await mkdir(abs).then(made, (again) => (errno(again) === "EEXIST" ? undefined : Promise.reject(again)));
        },
      );
      stats = await lstat(abs);
    }
    if (stats?.isSymbolicLink()) throw new UnsafeObjectPathError(this.location, level);
    // A file where a folder should be: not found, or for a save the ENOTDIR of its open.
    if (!stats?.isDirectory()) return create;
    this.folders.add(level);
    return true;
  }

  private async writeTemp(file: string, data: Buffer | AsyncIterable<Uint8Array>, folder: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
      let handle: FileHandle;
      try {
        // O_EXCL also refuses a link planted at the temp name.
        handle = await open(temp, "wx");
      } catch (error) {
        if (errno(error) === "EEXIST" && attempt < 3) continue;
        if (errno(error) === "ENOENT" && attempt === 0) {
          // A folder we remembered was removed behind our back: check again and make it.
          this.folders.clear();
          await this.ensureFolder(folder, "durable");
          continue;
        }
        throw error;
      }
      this.writing.add(temp);
      try {
        await writeAll(handle, data);
        await handle.sync();
        await handle.close();
        return temp;
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(temp, { force: true });
        this.writing.delete(temp);
        throw error;
      }
    }
  }

  private async readWhole(name: string, folder: string, file: string): Promise<Buffer> {
    if (!(await this.ensureFolder(folder, "check"))) throw new ObjectNotFoundError(this.location, name);
    // A small object (a session's files, read back by the next full) with plain calls, as
    // saveInPlace writes them; a larger one through the pool, so the event loop is not held.
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw this.openError(name, error);
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new ObjectNotFoundError(this.location, name);
      if (stats.size <= SYNC_BYTES) return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
    const handle = await this.openObject(name, file);
    try {
      if (!(await handle.stat()).isFile()) throw new ObjectNotFoundError(this.location, name);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  private async openObject(name: string, file: string): Promise<FileHandle> {
    try {
      return await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw this.openError(name, error);
    }
  }

  private openError(name: string, error: unknown): unknown {
    if (isMissing(error)) return new ObjectNotFoundError(this.location, name);
    if (errno(error) === "ELOOP") return new UnsafeObjectPathError(this.location, name);
    return error;
  }

  private async openForCache(name: string, folder: string, file: string): Promise<{ handle: FileHandle; size: number }> {
    if (!(await this.ensureFolder(folder, "check"))) throw new ObjectNotFoundError(this.location, name);
    const handle = await this.openObject(name, file);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new ObjectNotFoundError(this.location, name);
      return { handle, size: stats.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Every entry under a folder, without following links; `startsWith` filters its first level. */
  private async *walk(folder: string, startsWith: string): AsyncGenerator<{ name: string; stats: Stats; temp: boolean }> {
    const entries = await readdir(path.join(this.root, ...(folder ? folder.split("/") : [])), { withFileTypes: true }).catch((error) =>
      isMissing(error) ? [] : Promise.reject(error),
    );
    const names = entries.filter((e) => e.name.startsWith(startsWith)).map((e) => (folder ? `${folder}/${e.name}` : e.name));
    // lstat in batches: a folder of many packs lists quickly, without a burst of thousands of calls.
    for (let at = 0; at < names.length; at += 256) {
      const batch = names.slice(at, at + 256);
      const stats = await Promise.all(
        batch.map((name) => lstat(path.join(this.root, ...name.split("/"))).catch((error) => (isMissing(error) ? null : Promise.reject(error)))),
      );
      for (let i = 0; i < batch.length; i++) {
        const s = stats[i];
        const name = batch[i]!;
        // Gone meanwhile (removed, or a temp renamed into place), or a link: skipped.
        if (!s || s.isSymbolicLink()) continue;
        if (s.isDirectory()) yield* this.walk(name, "");
        else yield { name, stats: s, temp: TEMP_NAME.test(name) };
      }
    }
  }
}

/**
 * Open read handles by object name, least recently used closed first. Map order is the LRU
 * order. An open is shared by everyone who asks while it is under way.
 */
class ReadHandleCache {
  private readonly handles = new Map<string, CachedHandle>();
  private readonly opening = new Map<string, PendingOpen>();
  private readonly closing = new Set<Promise<void>>();
  /** Handles ever opened. */
  opened = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.handles.size;
  }

  /** A handle for `name`, in use until `release`. */
  acquire(name: string, openFile: () => Promise<{ handle: FileHandle; size: number }>): Promise<CachedHandle> {
    const cached = this.handles.get(name);
    if (cached) {
      this.handles.delete(name);
      this.handles.set(name, cached);
      cached.users++;
      return Promise.resolve(cached);
    }
    let pending = this.opening.get(name);
    if (!pending) {
      const started: PendingOpen = {
        waiters: 0,
        stale: false,
        promise: openFile().then(
          ({ handle, size }) => {
            this.opened++;
            if (this.opening.get(name) === started) this.opening.delete(name);
            // Counted here, synchronously, so no eviction can close it before its waiters run.
            const entry: CachedHandle = { handle, size, users: started.waiters, retired: started.stale };
            if (!started.stale) this.remember(name, entry);
            return entry;
          },
          (error: unknown) => {
            if (this.opening.get(name) === started) this.opening.delete(name);
            throw error;
          },
        ),
      };
      this.opening.set(name, started);
      pending = started;
    }
    pending.waiters++;
    return pending.promise;
  }

  release(entry: CachedHandle): void {
    entry.users--;
    if (entry.retired && entry.users === 0) this.closeHandle(entry);
  }

  /** Every object under `folder` was removed. */
  invalidatePrefix(folder: string): void {
    for (const name of [...this.opening.keys(), ...this.handles.keys()]) if (name.startsWith(folder)) this.invalidate(name);
  }

  /** The object was saved over or removed: later reads must open the new file, or find none. */
  invalidate(name: string): void {
    const pending = this.opening.get(name);
    if (pending) {
      pending.stale = true;
      this.opening.delete(name);
    }
    const entry = this.handles.get(name);
    if (entry) {
      this.handles.delete(name);
      this.retire(entry);
    }
  }

  async closeAll(): Promise<void> {
    for (const pending of this.opening.values()) pending.stale = true;
    this.opening.clear();
    for (const entry of this.handles.values()) this.retire(entry);
    this.handles.clear();
    await Promise.all(this.closing);
  }

  private remember(name: string, entry: CachedHandle): void {
    this.handles.set(name, entry);
    for (const [oldest, old] of this.handles) {
      if (this.handles.size <= this.capacity) break;
      this.handles.delete(oldest);
      this.retire(old);
    }
  }

  private retire(entry: CachedHandle): void {
    entry.retired = true;
    if (entry.users === 0) this.closeHandle(entry);
  }

  private closeHandle(entry: CachedHandle): void {
    // A read-only handle has nothing to flush, so a failed close loses nothing.
    const closed = entry.handle.close().catch(() => undefined);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }
}

/** Chunks of a stream are gathered up to this many bytes (or IOV_MAX chunks) into one writev. */
const GATHER_BYTES = 1024 * 1024;
const GATHER_CHUNKS = 1024;

/**
 * Writes a buffer, or a stream, to the end of a freshly opened file. A stream's chunks (a pack's
 * blobs, say: hundreds of small ones) are gathered into one writev per megabyte, not written one
 * system call each.
 */
async function writeAll(handle: FileHandle, data: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
  if (Buffer.isBuffer(data)) return handle.writeFile(data);
  let batch: Uint8Array[] = [];
  let size = 0;
  const drain = async () => {
    const written = batch.length === 1 ? (await handle.write(batch[0]!)).bytesWritten : (await handle.writev(batch)).bytesWritten;
    if (written < size) {
      // A short write (rare on a file): the rest one chunk at a time.
      let skip = written;
      for (const chunk of batch) {
        const from = Math.min(skip, chunk.length);
        skip -= from;
        for (let done = from; done < chunk.length; ) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
      }
    }
    batch = [];
    size = 0;
  };
  for await (const chunk of data) {
    if (chunk.length === 0) continue;
    batch.push(chunk);
    size += chunk.length;
    if (size >= GATHER_BYTES || batch.length >= GATHER_CHUNKS) await drain();
  }
  if (batch.length) await drain();
}
