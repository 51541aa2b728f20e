/**
 * The backend of a target named by a folder or a URL, opened as the target says: a target that
 * has keys (repository-keys.ts) is read and written through the encrypted backend, with the key
 * this process's passphrase opens; any other, as it is. The check (one listing of `keys/`) and
 * the unlocking (one scrypt) are done on first use, once per target and process.
 *
 * Encryption is fixed once chosen: the directory records each target `repo init --encrypt`
 * sealed (a server's `encryptedTargets` setting), and a target recorded so that has no keys any
 * more is refused, never read or written in the clear: someone who holds the bucket could
 * otherwise remove `keys/` and receive the next backups unencrypted.
 */
import type { ObjectInfo, SaveOptions, StorageBackend } from "./backend.ts";
import { EncryptedBackend } from "./encrypted-backend.ts";
import { LocalBackend } from "./local-backend.ts";
import { configuredPassphrase, isEncrypted, unlock } from "./repository-keys.ts";
import { isS3Url, S3Backend } from "./s3-backend.ts";
import { MailvaultError } from "../errors.ts";

export interface ClosableBackend extends StorageBackend {
  close(): Promise<void>;
}

/** Targets the directory records as encrypted (filled as servers are read; see list-servers.ts). */
const recordedEncrypted = new Set<string>();

export function expectEncrypted(locations: Iterable<string>): void {
  for (const location of locations) recordedEncrypted.add(location);
}

export class TargetDowngradedError extends MailvaultError {
  constructor(location: string) {
    super(
      "unavailable",
      "target_not_encrypted",
      `backup target ${location} was encrypted (the directory records it), but it holds no keys any more: nothing is read from it or written to it in the clear. Restore its keys/ folder from a copy, or check that the URL names the right bucket and prefix`,
    );
  }
}

export class TargetBackend implements ClosableBackend {
  readonly location: string;
  readonly raw: ClosableBackend;
  private opened: Promise<StorageBackend> | null = null;

  constructor(private readonly root: string) {
    this.raw = isS3Url(root) ? S3Backend.fromUrl(root) : new LocalBackend(root);
    this.location = this.raw.location;
  }

  /** The backend objects go through: encrypted when the target has keys. A wrong passphrase is retried on the next use. */
  private openedPlain = false;

  private ready(): Promise<StorageBackend> {
    // Found plain before the directory said it is encrypted (repo init ran in another process):
    // looked at again, so nothing more is written to it in the clear.
    if (this.openedPlain && recordedEncrypted.has(this.root)) this.opened = null;
    this.opened ??= (async () => {
      this.openedPlain = false;
      if (!(await isEncrypted(this.raw))) {
        if (recordedEncrypted.has(this.root)) throw new TargetDowngradedError(this.raw.location);
        this.openedPlain = true;
        return this.raw;
      }
      const { key } = await unlock(this.raw, configuredPassphrase());
      return new EncryptedBackend(this.raw, key);
    })();
    this.opened.catch(() => (this.opened = null));
    return this.opened;
  }

  /** Whether the target's objects are sealed (it has keys). */
  async encrypted(): Promise<boolean> {
    return (await this.ready()) instanceof EncryptedBackend;
  }

  /** Forgets what was learned of the target (after `repo init`, or keys changed). */
  reset(): void {
    this.opened = null;
  }

  async save(name: string, data: Buffer | AsyncIterable<Uint8Array>, options?: SaveOptions): Promise<void> {
    return (await this.ready()).save(name, data, options);
  }

  async flush(): Promise<void> {
    return (await this.ready()).flush();
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    return (await this.ready()).read(name, range);
  }

  async stat(name: string): Promise<ObjectInfo | null> {
    return (await this.ready()).stat(name);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* (await this.ready()).list(prefix);
  }

  async listFolders(folder: string): Promise<string[]> {
    return (await this.ready()).listFolders(folder);
  }

  async remove(name: string): Promise<void> {
    return (await this.ready()).remove(name);
  }

  async removeAll(folder: string): Promise<number> {
    return (await this.ready()).removeAll(folder);
  }

  async removeStaleTemps(olderThanMs: number, folder?: string): Promise<string[]> {
    return (await this.ready()).removeStaleTemps?.(olderThanMs, folder) ?? [];
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
