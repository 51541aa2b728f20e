/**
 * The one narrow interface through which a backup target's bytes are stored (repository format
 * 2, docs/backup-target.md). Objects are named with `/`-separated relative names
 * (`packs/ab/<id>`, `index/<id>`, `sessions/<label>/session.json`); a backend maps them to its
 * medium and is the only code that joins paths under the target. Every backend passes the same
 * conformance suite (backend-conformance.ts).
 */

export interface ObjectInfo {
  /** The object's name, relative to the backend's root. */
  name: string;
  size: number;
}

export interface SaveOptions {
  /**
   * The object is one of a set that a later object commits (a session's files, committed by
   * its manifest.sha256; docs/backup-target.md). The backend may then skip what makes each save
   * atomic and durable on its own (a folder: the temp name and the fsync), and `flush()` makes
   * every staged save durable at once. Until its set is committed, nobody may rely on a staged
   * object: a crash can leave it short or missing.
   */
  staged?: boolean;
  /**
   * Save only if no object of that name exists, else throw ObjectExistsError. A backend that
   * writes staged saves in place (a folder) must honour it atomically (O_EXCL), so that a save
   * never rewrites in place an object someone may be reading; one whose every save replaces
   * atomically (an object store) may simply save.
   */
  createOnly?: boolean;
  /**
   * The hex SHA-256 of exactly the bytes given, when the caller knows it (a pack is named by
   * it). A backend may hand it to the store to check the bytes against, rather than hashing
   * them again (S3: one PUT with `x-amz-content-sha256`). A backend that changes the bytes on
   * the way (encryption) must not pass it on.
   */
  sha256?: string;
}

/**
 * A stream that ends within `limit` bytes, as one Buffer; a longer one as a stream again (what
 * was read first, then the rest). A consumer that stops early stops the source too.
 */
export async function wholeWithin(data: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer | AsyncIterable<Uint8Array>> {
  const source = data[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await source.next();
    if (next.done) return Buffer.concat(head, size);
    head.push(next.value);
    size += next.value.length;
    if (size > limit) break;
  }
  return (async function* () {
    try {
      yield* head;
      for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
    } finally {
      await source.return?.();
    }
  })();
}

export interface StorageBackend {
  /** Where the backend keeps its objects, for messages (a folder, a bucket URL). */
  readonly location: string;
  /** True when a `createOnly` save checks for the object atomically (a folder's O_EXCL), not at all. */
  readonly createsAtomically?: boolean;
  /**
   * Stores an object atomically and durably: once this resolves the whole object is there and
   * survives a crash; a reader or a listing never sees part of it. An existing object of that
   * name is replaced whole. The bytes may come as a stream (a COPY through gzip), which is
   * consumed once; if it fails, nothing is stored under the name. `staged` relaxes this (above).
   */
  save(name: string, data: Buffer | AsyncIterable<Uint8Array>, options?: SaveOptions): Promise<void>;
  /** Makes every staged save of this backend durable (a folder: one syncfs). */
  flush(): Promise<void>;
  /** An object's bytes, or `length` bytes of it from `offset`. Throws ObjectNotFoundError. */
  read(name: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /** Its size, or null when there is no such object. */
  stat(name: string): Promise<ObjectInfo | null>;
  /** Every complete object whose name starts with `prefix`, in no set order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * The folders right under `folder` (which is "" or ends with `/`): the distinct next name
   * parts of the objects below it that have more parts after them (S3: the common prefixes of a
   * listing with delimiter `/`). Without their trailing `/`, in no set order. Lets a reader find
   * the sessions of a target without listing every file of every session.
   */
  listFolders(folder: string): Promise<string[]>;
  /** Removes an object; removing one that is not there is not an error. */
  remove(name: string): Promise<void>;
  /** Removes every object under `folder` (which ends with `/`); returns how many there were. */
  removeAll(folder: string): Promise<number>;
  /**
   * Backends that save through temporary names (a folder) remove those a dead writer left under
   * `folder`, last touched more than `olderThanMs` ago, and return their names. Prune calls it.
   */
  removeStaleTemps?(olderThanMs: number, folder?: string): Promise<string[]>;
}

export class ObjectNotFoundError extends Error {
  readonly code = "object_not_found";
  constructor(
    readonly location: string,
    readonly objectName: string,
  ) {
    super(`${objectName} is missing from ${location}`);
  }
}

/** A `createOnly` save found an object of that name already there; nothing was written. */
export class ObjectExistsError extends Error {
  readonly code = "object_exists";
  constructor(
    readonly location: string,
    readonly objectName: string,
  ) {
    super(`${objectName} already exists in ${location}`);
  }
}

/** Asked for bytes the object does not have: a range past its end, or a file cut short underneath. */
export class ObjectRangeError extends Error {
  readonly code = "object_range";
  constructor(
    readonly location: string,
    readonly objectName: string,
    readonly range: { offset: number; length: number },
    readonly size: number,
  ) {
    super(`${objectName} in ${location} has ${size} bytes; ${range.length} bytes at offset ${range.offset} were asked for`);
  }
}

/** A folder argument: "" (the root) or a valid name followed by `/`. */
export function checkFolderName(folder: string): string {
  if (folder !== "" && (!folder.endsWith("/") || !isValidName(folder.slice(0, -1)))) throw new Error(`invalid object folder ${JSON.stringify(folder)}: a name ending with /, or "" for the root`);
  return folder;
}

function isValidName(name: string): boolean {
  try {
    checkObjectName(name);
    return true;
  } catch {
    return false;
  }
}

/** Names are relative, `/`-separated, without empty, `.` or `..` parts. */
export function checkObjectName(name: string): string {
  if (!name || name.startsWith("/") || name.split("/").some((part) => part === "" || part === "." || part === "..") || name.includes("\u0000")) {
    throw new Error(`invalid object name ${JSON.stringify(name)}`);
  }
  return name;
}
