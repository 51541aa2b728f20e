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

export interface StorageBackend {
  /** Where the backend keeps its objects, for messages (a folder, a bucket URL). */
  readonly location: string;
  /**
   * Stores an object atomically and durably: once this resolves the whole object is there and
   * survives a crash; a reader or a listing never sees part of it. An existing object of that
   * name is replaced whole.
   */
  save(name: string, data: Buffer): Promise<void>;
  /** An object's bytes, or `length` bytes of it from `offset`. Throws ObjectNotFoundError. */
  read(name: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /** Its size, or null when there is no such object. */
  stat(name: string): Promise<ObjectInfo | null>;
  /** Every complete object whose name starts with `prefix`, in no set order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes an object; removing one that is not there is not an error. */
  remove(name: string): Promise<void>;
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

/** Names are relative, `/`-separated, without empty, `.` or `..` parts. */
export function checkObjectName(name: string): string {
  if (!name || name.startsWith("/") || name.split("/").some((part) => part === "" || part === "." || part === "..") || name.includes("\u0000")) {
    throw new Error(`invalid object name ${JSON.stringify(name)}`);
  }
  return name;
}
