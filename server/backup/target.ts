/**
 * A backup target: a store of objects that describes itself (docs/backup-target.md), reached
 * only through a storage backend (server/repository/backend.ts; the local folder by default).
 *
 *   target.json                 format, server
 *   packs/ab/<sha256>           format 2: message bodies, each once, appended to packs of tens
 *                               of MiB, each pack named by its hash and describing itself
 *   index/<sha256>              format 2: which pack holds each blob (server/repository)
 *   blobs/ab/cd/<sha256>        format 1: one file per message body (read, never written now)
 *   sessions/<label>/           every session's files; published once its manifest.sha256 is
 *                               there (the commit object, saved last)
 *   dumps/ab/<sha256>           an account's snapshot files (its dumps, blob list, mailbox.json),
 *                               each named by the sha256 of its bytes and saved once: the
 *                               manifests of every session whose account had those bytes name it
 *   tmp/<label>/                sessions that earlier versions never published (read only)
 *   redo/<segment>              sealed redo segments shipped as they sealed (ship-redo.ts);
 *                               sessions name those they cover instead of holding a copy
 *   accounts-index.json         every account id, every name it had, the sessions holding it,
 *   accounts-index/<label>.json   and what each session published since added to that
 *
 * A session's files are staged saves (no sync each): the backend's flush makes them all durable
 * before the commit object is saved, so a crash before the commit leaves a session nobody
 * reads, and one after it a session whose every file is on disk. Blobs go into packs through the
 * repository: each pack is saved atomically and durably, then an index object names the packs of
 * a batch; a crash leaves only packs no index names, which verify reports and prune removes. A
 * session is published only once every blob it names is in the index. Nothing outside the
 * backend module joins paths under the target: everything here is an object name.
 */
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { config } from "../config.ts";
import { eachLimited } from "../each-limited.ts";
import { MailvaultError } from "../errors.ts";
import { SessionNotFoundError } from "./errors.ts";
import type { BlobStore } from "../mailstore/blob-store.ts";
import { parseSegmentName, type SegmentFile } from "../redo/segment-format.ts";
import { ObjectExistsError, ObjectNotFoundError, type StorageBackend } from "../repository/backend.ts";
import { absentDigests, blobIo } from "../repository/blob-io.ts";
import { TargetBackend } from "../repository/open-backend.ts";
import { PackFormatError } from "../repository/pack-format.ts";
import type { PackWriter } from "../repository/pack-writer.ts";
import { Repository } from "../repository/repository.ts";

export const TARGET_FORMAT = 2;

const gunzipAsync = promisify(gunzip);

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface FileEntry {
  /** Path relative to the session folder. */
  path: string;
  sha256: string;
  size: number;
  /** The object that holds the file when the session refers to it rather than holds it (a shipped redo segment). */
  object?: string;
}

/** The manifest entry of bytes. */
export function fileEntry(relative: string, bytes: Buffer): FileEntry {
  return { path: relative, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
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

/** Where format 1 kept a blob, as an object of its own. */
export function legacyBlobName(digest: string): string {
  return `blobs/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`;
}

/** Where redo shipping (server/redo/ship-redo.ts) keeps a sealed segment, shared by the sessions that refer to it. */
export function shippedSegmentObject(segment: string): string {
  if (!parseSegmentName(segment)) throw new Error(`not a redo segment name: ${JSON.stringify(segment)}`);
  return `redo/${segment}`;
}

/**
 * Where an account's snapshot file with these bytes is kept: one object per content, shared by
 * every session whose manifest names it (an account unchanged since the last full costs its
 * session no write at all).
 */
export function accountFileObject(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return `dumps/${sha256.slice(0, 2)}/${sha256}`;
}

const ACCOUNT_FILE_OBJECT = /^dumps\/[0-9a-f]{2}\/[0-9a-f]{64}$/;

/** Blob lists read at once, and read before they are handed over (BackupTarget.eachBlobList). */
const LISTS_AT_ONCE = 16;
const LISTS_PER_WINDOW = 64;

export function isAccountFileObject(name: string | undefined): boolean {
  return name !== undefined && ACCOUNT_FILE_OBJECT.test(name);
}

/** The object that commits a session: once it is saved, the session is published. */
const COMMIT = "manifest.sha256";
const LABEL = /^[a-z]+-\d{8}\.\d{6}\.\d{3}$/;

/** A label that could not name a session names none (and never reaches an object name). */
function checkLabel(label: string): string {
  if (!LABEL.test(label)) throw new SessionNotFoundError(label.slice(0, 100));
  return label;
}

/**
 * Manifests read in this process, per target and label, with the commit they matched: a restore
 * job of one account of a session of 10,000 need not read and parse its manifest (megabytes)
 * again. The commit object is read each time, so a session removed and published again under
 * its label is read again.
 */
const manifests = new Map<string, { commit: string; files: Map<string, FileEntry> }>();
const CACHED_MANIFESTS = 3;

const sessionTargets = new Map<string, Promise<BackupTarget>>();
/** One backend (its folder and handle caches) and one repository (its index) per target in a process. */
const backends = new Map<string, TargetBackend>();
const repositories = new Map<string, Promise<Repository>>();

/**
 * A target is a folder, or an object store named by its URL (`s3://bucket/prefix?…`,
 * s3-backend.ts); either may be encrypted (open-backend.ts).
 */
export function backendFor(root: string): TargetBackend {
  let backend = backends.get(root);
  if (!backend) backends.set(root, (backend = new TargetBackend(root)));
  return backend;
}

/** Drops the process's cached backends and repositories (tests that remove targets; after a prune elsewhere). */
export async function closeRepositories(): Promise<void> {
  const open = [...backends.values()];
  repositories.clear();
  sessionTargets.clear();
  backends.clear();
  for (const backend of open) await backend.close();
}

export class BackupTarget {
  readonly backend: TargetBackend;
  /** Account files this instance saved or is saving: a session writes each content once (most accounts share the empty tombstones dump). */
  private readonly savedAccountFiles = new Map<string, Promise<void>>();
  /** This instance's reads of published sessions' manifests (the process keeps the last few: `manifests`). */
  private readonly manifestReads = new Map<string, Promise<Map<string, FileEntry>>>();

  constructor(
    readonly root: string,
    readonly server: string,
  ) {
    this.backend = backendFor(root);
  }

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
      repo = Repository.open(this.backend);
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

  /** How an object is named in messages: the backend's location and the object's name. */
  describe(name: string): string {
    return `${this.backend.location}/${name}`;
  }

  async init(): Promise<void> {
    const existing = await this.readJsonObject<{ server: string }>("target.json");
    if (existing && existing.server !== this.server) {
      throw new MailvaultError("conflict", "target_taken", `backup target ${this.backend.location} belongs to server ${existing.server}, not ${this.server}`);
    }
    if (!existing) await this.backend.save("target.json", Buffer.from(JSON.stringify({ format: TARGET_FORMAT, server: this.server, createdAt: new Date().toISOString() }, null, 2)));
  }

  /** A JSON object of the target, or null when there is none. */
  async readJsonObject<T>(name: string): Promise<T | null> {
    const bytes = await this.backend.read(name).catch((error: unknown) => (error instanceof ObjectNotFoundError ? null : Promise.reject(error)));
    return bytes ? (JSON.parse(bytes.toString("utf8")) as T) : null;
  }

  // ---- a session's files (sessions/<label>/...) ----

  /** The object name of a file of a session. */
  sessionObject(label: string, relative: string): string {
    return `sessions/${checkLabel(label)}/${relative}`;
  }

  /** A file of a session, written whole (made durable by `publish`); returns its manifest entry. */
  async writeSessionFile(label: string, relative: string, bytes: Buffer): Promise<FileEntry> {
    await this.backend.save(this.sessionObject(label, relative), bytes, { staged: true });
    return fileEntry(relative, bytes);
  }

  /** A file of a session from a stream (e.g. COPY through gzip); returns its manifest entry. */
  async streamSessionFile(label: string, relative: string, source: Readable, ...stages: Transform[]): Promise<FileEntry> {
    const hash = hashing();
    const name = this.sessionObject(label, relative);
    // The backend reads the last stage as a stream; a failure on either side stops both.
    const [flow, save] = await Promise.allSettled([pipeline([source, ...stages, hash]), this.backend.save(name, hash, { staged: true })]);
    const failures = [flow, save].filter((r) => r.status === "rejected").map((r) => r.reason as { code?: string });
    // The side that failed first is the cause; the other only saw the stream cut.
    if (failures.length) throw failures.find((e) => e?.code !== "ERR_STREAM_PREMATURE_CLOSE" && e?.code !== "ABORT_ERR") ?? failures[0];
    return { path: relative, ...hash.digest() };
  }

  /**
   * An account's snapshot file (a dump, its blob list, mailbox.json), saved under dumps/ by the
   * sha256 of its bytes, staged as a session's files are; returns its manifest entry.
   *   - Nothing is written when `known` (the entry of an earlier published session's manifest for
   *     the same file) names an object of exactly these bytes: that session's publish made it
   *     durable, and only prune removes account files, never while a backup runs (blobs in packs
   *     are trusted the same way; verify finds what went missing otherwise).
   *   - An object of that name already there is read back and kept when its bytes are these. It
   *     is never written again in place, since sessions that name it may be read meanwhile; one
   *     that differs (cut short by a crash before any commit named it, or damaged) is replaced
   *     whole, atomically.
   */
  async writeAccountFile(relative: string, bytes: Buffer, known?: FileEntry): Promise<FileEntry> {
    const { entry, saved } = this.startAccountFile(relative, bytes, known);
    await saved;
    return entry;
  }

  /**
   * writeAccountFile's two halves: the manifest entry at once, and the save under way. A caller
   * with many files (a batch's dumps) starts them all and then awaits them together, so that on
   * an object store their requests overlap; it must await (or at least catch) every `saved`.
   */
  startAccountFile(relative: string, bytes: Buffer, known?: FileEntry): { entry: FileEntry; saved: Promise<void> } {
    const hashed = fileEntry(relative, bytes);
    const entry = { ...hashed, object: accountFileObject(hashed.sha256) };
    return { entry, saved: known?.object === entry.object ? Promise.resolve() : this.saveAccountFile(entry.object, bytes, entry.sha256) };
  }

  private saveAccountFile(object: string, bytes: Buffer, sha256: string): Promise<void> {
    let saving = this.savedAccountFiles.get(object);
    if (!saving) {
      saving = (async () => {
        try {
          return await this.backend.save(object, bytes, { staged: true, createOnly: true });
        } catch (error) {
          if (!(error instanceof ObjectExistsError)) throw error;
        }
        const held = await this.backend.read(object).catch(() => null);
        if (held && createHash("sha256").update(held).digest("hex") === sha256) return;
        // Replaced whole (temp name, fsync, rename), never in place: sessions may name it and be
        // read meanwhile, and another process may be writing the same bytes under the name now.
        await this.backend.save(object, bytes);
      })();
      this.savedAccountFiles.set(object, saving);
      saving.catch(() => this.savedAccountFiles.delete(object));
    }
    return saving;
  }

  /**
   * A published session's manifest entries by path, checked against its commit object; throws
   * ObjectNotFoundError when the session is not published, and an error naming the damage when
   * the manifest does not match its commit.
   */
  sessionManifest(label: string): Promise<Map<string, FileEntry>> {
    let found = this.manifestReads.get(label);
    if (!found) {
      found = (async () => {
        const commit = (await this.backend.read(this.sessionObject(label, COMMIT))).toString("utf8").split(/\s+/)[0]!;
        const key = `${this.root}\u0000${label}`;
        const cached = manifests.get(key);
        if (cached?.commit === commit) return cached.files;
        const bytes = await this.backend.read(this.sessionObject(label, "manifest.json"));
        if (commit !== createHash("sha256").update(bytes).digest("hex")) {
          throw new Error(`${this.describe(this.sessionObject(label, "manifest.json"))} does not match its commit object; run verify -lb ${label}`);
        }
        const files = new Map((JSON.parse(bytes.toString("utf8")) as { files: FileEntry[] }).files.map((f) => [f.path, f]));
        manifests.delete(key);
        manifests.set(key, { commit, files });
        if (manifests.size > CACHED_MANIFESTS) manifests.delete(manifests.keys().next().value!);
        return files;
      })();
      this.manifestReads.set(label, found);
      found.catch(() => this.manifestReads.delete(label));
    }
    return found;
  }

  /**
   * The shared account file (under dumps/) that a published session's manifest names for
   * `relative`, or null. With `onlyKnown`, only from a manifest this instance has read already:
   * then a reader need not look in the session's folder first (on S3, a request answered 404 for
   * every account file of a new session), nor read the manifest for an older session whose
   * account files are its own.
   */
  private async sharedObject(label: string, relative: string, onlyKnown = false): Promise<string | null> {
    if (!relative.startsWith("accounts/")) return null;
    const manifest = onlyKnown ? this.manifestReads.get(label) : this.sessionManifest(label);
    const object = manifest && (await manifest.catch(() => null))?.get(relative)?.object;
    return isAccountFileObject(object) ? object! : null;
  }

  /** The object that holds a file of a session: its own, or the shared account file its manifest names instead. */
  async sessionFileObject(label: string, relative: string): Promise<string> {
    const known = await this.sharedObject(label, relative, true);
    if (known) return known;
    const own = this.sessionObject(label, relative);
    if (!relative.startsWith("accounts/") || (await this.backend.stat(own))) return own;
    return (await this.sharedObject(label, relative)) ?? own;
  }

  /** How a file of a session is named in messages: where it is, and which file of the session it is when it is a shared account file. */
  async describeSessionFile(label: string, relative: string): Promise<string> {
    const object = await this.sessionFileObject(label, relative);
    return object === this.sessionObject(label, relative) ? this.describe(object) : `${this.describe(object)} (${relative} of ${label})`;
  }

  /** A file of a session, its own or the account file its manifest names; throws ObjectNotFoundError when it is not there. */
  async readSessionFile(label: string, relative: string): Promise<Buffer> {
    const known = await this.sharedObject(label, relative, true);
    if (known) return this.backend.read(known);
    try {
      return await this.backend.read(this.sessionObject(label, relative));
    } catch (error) {
      const object = error instanceof ObjectNotFoundError ? await this.sharedObject(label, relative) : null;
      if (!object) throw error;
      return this.backend.read(object);
    }
  }

  /**
   * The accounts whose snapshot a session holds: from its manifest (their files may be shared
   * objects), or from its folders when it has no readable manifest (verify reports why). With
   * `strict` (prune), a manifest that cannot be read is an error, not a guess.
   */
  async sessionAccountIds(label: string, options: { strict?: boolean } = {}): Promise<string[]> {
    const manifest = options.strict ? await this.sessionManifest(label) : await this.sessionManifest(label).catch(() => null);
    if (!manifest) return this.sessionFolders(label, "accounts/");
    const ids = new Set<string>();
    for (const relative of manifest.keys()) {
      const id = /^accounts\/([^/]+)\//.exec(relative)?.[1];
      if (id) ids.add(id);
    }
    return [...ids];
  }

  /**
   * Each account's blob list in a session, handed to `each` in the accounts' order: read
   * LISTS_AT_ONCE at a time (on an object store each is a request) a window at a time, so only a
   * window is held. An unreadable blob list is handed over empty (verify reports the file
   * itself) unless `listsMustRead` (a copy) or `strict` (prune: the manifest too) says to throw.
   */
  async eachBlobList(label: string, each: (accountId: string, digests: string[]) => void, options: { strict?: boolean; listsMustRead?: boolean } = {}): Promise<void> {
    const accounts = await this.sessionAccountIds(label, { strict: options.strict });
    const mustRead = options.strict || options.listsMustRead;
    for (let from = 0; from < accounts.length; from += LISTS_PER_WINDOW) {
      const window = accounts.slice(from, from + LISTS_PER_WINDOW);
      const lists: string[] = [];
      await eachLimited(window, LISTS_AT_ONCE, async (account, i) => {
        const read = this.readSessionFile(label, `accounts/${account}/blobs.txt`);
        lists[i] = (await (mustRead ? read : read.catch(() => Buffer.alloc(0)))).toString("utf8");
      });
      for (const [i, account] of window.entries()) each(account, lists[i]!.split("\n").filter(Boolean));
    }
  }

  /**
   * Account files (dumps/) that no published session's manifest names: what a crashed or failed
   * backup, or a deleted session, left. Null when a published manifest cannot be read: then
   * nothing can be called unreferenced.
   */
  async unreferencedAccountFiles(): Promise<{ name: string; size: number }[] | null> {
    const named = new Set<string>();
    for (const label of await this.publishedLabels()) {
      const manifest = await this.sessionManifest(label).catch(() => null);
      if (!manifest) return null;
      for (const entry of manifest.values()) if (isAccountFileObject(entry.object)) named.add(entry.object!);
    }
    const found: { name: string; size: number }[] = [];
    for await (const info of this.backend.list("dumps/")) if (!named.has(info.name)) found.push(info);
    return found;
  }

  /** A file of a session as a stream of range reads (at most `chunk` bytes in memory), for files too big to hold whole. */
  async *sessionFileChunks(label: string, relative: string, chunk = 4 << 20): AsyncGenerator<Buffer> {
    const name = await this.sessionFileObject(label, relative);
    const info = await this.backend.stat(name);
    if (!info) throw new ObjectNotFoundError(this.backend.location, name);
    for (let offset = 0; offset < info.size; offset += chunk) yield await this.backend.read(name, { offset, length: Math.min(chunk, info.size - offset) });
  }

  /** A file of a session for random-access reads (redo segments), through the backend. */
  sessionFileReader(label: string, relative: string): SegmentFile {
    return objectReader(this.backend, this.sessionObject(label, relative));
  }

  /** The files of a session under `folder` (e.g. "accounts/"), as names relative to the session. */
  async sessionFiles(label: string, folder: string): Promise<{ path: string; size: number }[]> {
    const base = this.sessionObject(label, "");
    const out: { path: string; size: number }[] = [];
    for await (const info of this.backend.list(`${base}${folder}`)) out.push({ path: info.name.slice(base.length), size: info.size });
    return out;
  }

  /** The folders right under `folder` of a session (e.g. the account ids under "accounts/"). */
  sessionFolders(label: string, folder: string): Promise<string[]> {
    return this.backend.listFolders(this.sessionObject(label, folder));
  }

  /**
   * The redo segments a session holds, in sequence order, each with the object that holds it:
   * its own `redologs/<name>`, or for a segment shipped before the session (redo shipping,
   * ship-redo.ts) the shared `redo/<name>` that its session.json names under `redo.shipped`.
   */
  async sessionSegments(label: string): Promise<{ name: string; firstSeq: number; lastSeq: number; object: string }[]> {
    const segments: { name: string; firstSeq: number; lastSeq: number; object: string }[] = [];
    for (const file of await this.sessionFiles(label, "redologs/")) {
      const name = file.path.slice("redologs/".length);
      const range = parseSegmentName(name);
      if (range) segments.push({ name, ...range, object: this.sessionObject(label, file.path) });
    }
    const description = await this.readJsonObject<{ redo?: { shipped?: string[] } | null }>(this.sessionObject(label, "session.json"));
    for (const name of description?.redo?.shipped ?? []) {
      const range = parseSegmentName(name);
      if (range && !segments.some((s) => s.name === name)) segments.push({ name, ...range, object: shippedSegmentObject(name) });
    }
    return segments.sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** Random-access reads of any object of the target (a redo segment), through the backend. */
  segmentReader(object: string): SegmentFile {
    return objectReader(this.backend, object);
  }

  /** Whether a session is published (its commit object is there). */
  async isPublished(label: string): Promise<boolean> {
    return (await this.backend.stat(this.sessionObject(label, COMMIT))) !== null;
  }

  /**
   * Every session the target holds, published or not; `legacy` marks those an earlier version
   * left in tmp/ (never published).
   */
  async sessions(): Promise<{ label: string; published: boolean; legacy: boolean }[]> {
    const found: { label: string; published: boolean; legacy: boolean }[] = [];
    for (const label of await this.backend.listFolders("sessions/")) {
      if (LABEL.test(label)) found.push({ label, published: await this.isPublished(label), legacy: false });
    }
    for (const label of await this.backend.listFolders("tmp/")) {
      if (LABEL.test(label) && !found.some((f) => f.label === label)) found.push({ label, published: false, legacy: true });
    }
    return found.sort((a, b) => a.label.localeCompare(b.label));
  }

  /** The labels of the published sessions, sorted. */
  async publishedLabels(): Promise<string[]> {
    return (await this.sessions()).filter((s) => s.published).map((s) => s.label);
  }

  /** A session's session.json, wherever it is (tmp/ for an earlier version's unpublished one). */
  async readSessionJson<T>(label: string): Promise<T | null> {
    return (await this.readJsonObject<T>(this.sessionObject(label, "session.json"))) ?? (await this.readJsonObject<T>(`tmp/${checkLabel(label)}/session.json`));
  }

  /** Rewrites the session.json of an unpublished session (what became of it); durable at once. */
  async rewriteSessionJson(label: string, description: unknown): Promise<void> {
    if (await this.isPublished(label)) return;
    const legacy = (await this.backend.stat(this.sessionObject(label, "session.json"))) === null && (await this.backend.stat(`tmp/${label}/session.json`)) !== null;
    await this.backend.save(legacy ? `tmp/${label}/session.json` : this.sessionObject(label, "session.json"), Buffer.from(JSON.stringify(description, null, 2)));
  }

  /**
   * The step that makes a session visible: every staged file is made durable, then the commit
   * object (the manifest's checksum) is saved, atomically and durably.
   */
  async publish(label: string, commit: Buffer): Promise<void> {
    await this.backend.flush();
    await this.backend.save(this.sessionObject(label, COMMIT), commit);
  }

  /** Removes a session: its commit object first, so a crash midway leaves an unpublished one. */
  async removeSession(label: string): Promise<void> {
    await this.backend.remove(this.sessionObject(label, COMMIT));
    await this.backend.removeAll(`sessions/${checkLabel(label)}/`);
    await this.backend.removeAll(`tmp/${label}/`);
  }

  /** Temporary files a dead writer left in a session's folder (a folder backend's `*.tmp-*`). */
  async removeSessionTemps(label: string): Promise<string[]> {
    const removed = (await this.backend.removeStaleTemps?.(0, `sessions/${checkLabel(label)}`)) ?? [];
    return removed.map((name) => this.describe(name));
  }

  // ---- blobs ----

  /** Whether this target has format-1 blob files at all (asked once: most targets have none). */
  private legacy: Promise<boolean> | undefined;

  private hasLegacyBlobs(): Promise<boolean> {
    // Earlier versions made an empty blobs/ in every target: only one with files in it counts.
    this.legacy ??= (async () => {
      for await (const _ of this.backend.list("blobs/")) return true;
      return false;
    })();
    return this.legacy;
  }

  /** Whether the target holds the blob: in a pack, or as a format-1 file. */
  async hasBlob(digest: string): Promise<boolean> {
    if ((await this.repository()).has(digest)) return true;
    if (!(await this.hasLegacyBlobs())) return false;
    return (await this.backend.stat(legacyBlobName(digest))) !== null;
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
    const name = legacyBlobName(digest);
    const raw = (await this.hasLegacyBlobs()) ? await this.backend.read(name).catch(() => null) : null;
    if (raw) {
      const bytes = isGzip(raw) ? await gunzipAsync(raw) : raw;
      if (createHash("sha256").update(bytes).digest("hex") !== digest) throw new Error(`blob ${digest} of the backup target (${this.describe(name)}) is damaged: its content does not hash to its name`);
      return bytes;
    }
    // Written since this process loaded the index (another worker's session)?
    await repo.reload();
    if (repo.has(digest)) return repo.read(digest);
    throw new Error(`blob ${digest} is missing from the backup target`);
  }

  /**
   * Checks many blobs against their digests, each pack read in a few ranges (not a read per
   * blob: on an object store that is a request each); format-1 files one by one. A damaged blob
   * is told to `damaged` with the reason. Returns the digests the target does not hold.
   */
  async checkBlobs(digests: string[], damaged: (digest: string, detail: string) => void): Promise<string[]> {
    // An index that cannot be read is damage to report for every blob, not a verify that fails.
    const repo = await this.repository()
      .then(async (r) => (digests.some((d) => !r.has(d)) ? r.reload().then(() => r) : r))
      .catch((error: Error) => {
        for (const digest of digests) damaged(digest, `the repository index cannot be read: ${error.message}`);
        return null;
      });
    if (!repo) return [];
    const missing: string[] = [];
    for (const digest of await repo.checkMany(digests, damaged)) {
      await this.readBlob(digest).catch((error: Error) => (error.message.includes("damaged") ? damaged(digest, error.message) : missing.push(digest)));
    }
    return missing;
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
    const lacking = await absentDigests(volume.root, digests);
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
  async *listLegacyBlobs(): AsyncGenerator<{ digest: string; name: string; size: number }> {
    for await (const info of this.backend.list("blobs/")) {
      const digest = info.name.slice(info.name.lastIndexOf("/") + 1);
      if (/^[0-9a-f]{64}$/.test(digest) && info.name === legacyBlobName(digest)) yield { digest, name: info.name, size: info.size };
    }
  }
}

/** Random-access reads of one object through its backend, in the shape the segment reader takes. */
export function objectReader(backend: StorageBackend, name: string): SegmentFile {
  return {
    async stat() {
      const info = await backend.stat(name);
      if (!info) throw new ObjectNotFoundError(backend.location, name);
      return { size: info.size };
    },
    async read(buffer, offset, length, position) {
      const bytes = await backend.read(name, { offset: position, length });
      bytes.copy(buffer, offset);
      return { bytesRead: bytes.length };
    },
  };
}
