/**
 * A backup target in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Wasabi), behind
 * the same interface as the local folder (backend.ts) and passing the same conformance suite.
 *
 *   s3://<bucket>/<prefix>?endpoint=http://127.0.0.1:9000&pathStyle=1&region=us-east-1
 *
 * Object `packs/ab/<id>` is the key `<prefix>/packs/ab/<id>`. A PUT, or the completion of a
 * multipart upload, makes an object appear whole or not at all, which is the atomic save the
 * interface asks for; S3 has been strongly consistent since 2020, so a save is visible to the
 * next read and listing. Staged saves are plain saves (there is no cheaper kind), and `flush`
 * has nothing to do. A stream goes in one PUT with its SHA-256 as `x-amz-content-sha256`: S3
 * refuses bytes that do not match it, and SigV4 signs it rather than hashing the body again. The
 * digest is the caller's when it knows it (a pack, named by it: up to 64 MiB), or computed here
 * on a blob I/O thread (up to 24 MiB: an encrypted pack, a copied pack or segment). A longer
 * stream is sent with lib-storage's Upload, in 8 MiB parts, two in flight; if it fails, the
 * upload is aborted and nothing is stored under the name.
 *
 * Credentials never come from the target URL, the directory or the API: the SDK's default chain
 * reads them from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the shared
 * credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE). Requests that fail with a 5xx, a
 * throttle or a timeout are retried with exponential backoff (the SDK's standard strategy, up
 * to `MAX_ATTEMPTS` tries); every request has a deadline.
 */
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { onFirstUse } from "../on-first-use.ts";
import { hashOffThread } from "./blob-io.ts";
import { checkFolderName, checkObjectName, ObjectNotFoundError, ObjectRangeError, wholeWithin, type ObjectInfo, type SaveOptions, type StorageBackend } from "./backend.ts";

// The SDK warns once per process that its releases after January 2027 need Node 22; this
// project pins a release that supports Node 20 (shared/STACK.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Tries per request, the first included (the SDK backs off exponentially between them). */
const MAX_ATTEMPTS = 5;
/** A request that sends or receives nothing for this long is abandoned (and retried). */
const REQUEST_TIMEOUT_MS = 60_000;
const PART_BYTES = 8 * 1024 * 1024;
/** A stream of known digest up to this size is sent in one PUT (a pack is 16 MiB and a little more). */
const ONE_PUT_BYTES = 64 * 1024 * 1024;
/**
 * A stream whose digest the caller does not know (an encrypted pack, a pack or segment being
 * copied, a large dump) is held up to this size and sent in one PUT, with its SHA-256 computed
 * here; a longer one goes in parts. While it is joined, a save holds up to twice this (the
 * chunks and their copy), against about 24 MiB for lib-storage's parts in flight.
 */
const ONE_PUT_UNHASHED_BYTES = 24 * 1024 * 1024;
/** Below this size SigV4 hashes the body on the main thread: cheaper than the trip to a thread. */
const HASH_OFF_THREAD_BYTES = 1024 * 1024;

type Sdk = typeof import("@aws-sdk/client-s3") & typeof import("@aws-sdk/lib-storage");
/** The SDK, loaded when the process first talks to S3 (about 0.4 s). */
const sdk = onFirstUse<Sdk>(async () => {
  const [s3, storage] = await Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
  return { ...s3, ...storage };
});

export interface S3TargetSettings {
  bucket: string;
  /** Key prefix, without leading or trailing `/`; "" for the bucket's root. */
  prefix: string;
  endpoint?: string;
  region: string;
  pathStyle: boolean;
}

export class InvalidS3UrlError extends Error {
  readonly code = "invalid_target";
}

export function isS3Url(target: string): boolean {
  return target.startsWith("s3://");
}

/** `s3://bucket/prefix?endpoint=…&pathStyle=1&region=…` as settings; refuses credentials in it. */
export function parseS3Url(target: string): S3TargetSettings {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new InvalidS3UrlError(`invalid S3 target ${JSON.stringify(target)}: use s3://bucket/prefix?endpoint=http://host:9000&pathStyle=1`);
  }
  if (url.protocol !== "s3:" || !url.hostname) throw new InvalidS3UrlError(`invalid S3 target ${JSON.stringify(target)}: use s3://bucket/prefix`);
  if (url.username || url.password) throw new InvalidS3UrlError("an S3 target URL carries no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a shared credentials file");
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InvalidS3UrlError(`invalid bucket name ${JSON.stringify(bucket)}: 3 to 63 lowercase letters, digits, dots and hyphens`);
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  if (prefix) checkObjectName(prefix);
  const known = new Set(["endpoint", "region", "pathStyle"]);
  for (const key of url.searchParams.keys()) if (!known.has(key)) throw new InvalidS3UrlError(`unknown S3 target setting ${JSON.stringify(key)}: known are endpoint, region and pathStyle`);
  const endpoint = url.searchParams.get("endpoint") ?? undefined;
  if (endpoint && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new InvalidS3UrlError(`invalid S3 endpoint ${JSON.stringify(endpoint)}: http(s)://host[:port]`);
  const pathStyle = url.searchParams.get("pathStyle");
  if (pathStyle !== null && pathStyle !== "0" && pathStyle !== "1") throw new InvalidS3UrlError("pathStyle is 0 or 1");
  return { bucket, prefix, endpoint, region: url.searchParams.get("region") ?? process.env.AWS_REGION ?? "us-east-1", pathStyle: pathStyle === "1" };
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown, { S3ServiceException }: Sdk): boolean {
  return status(error) === 404 || (error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.name === "NotFound"));
}

export class S3Backend implements StorageBackend {
  readonly location: string;
  private readonly bucket: string;
  private readonly root: string;
  /** The client, made with the SDK on first use (or the caller's). */
  private readonly client = onFirstUse(() => (this.given ? Promise.resolve(this.given) : this.makeClient()));

  /** `given`: a client of the caller's, which `close()` leaves open and later calls use. */
  constructor(
    readonly settings: S3TargetSettings,
    private readonly given?: S3Client,
  ) {
    this.bucket = settings.bucket;
    this.root = settings.prefix ? `${settings.prefix}/` : "";
    this.location = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ""}`;
  }

  /** The SDK and this target's client, made on the first call (calls made together share it; a failure is not kept). */
  private async s3(): Promise<{ client: S3Client; sdk: Sdk }> {
    const [client, loaded] = await Promise.all([this.client(), sdk()]);
    return { client, sdk: loaded };
  }

  private makeClient(): Promise<S3Client> {
    return sdk().then(
      (loaded) =>
        new loaded.S3Client({
          region: this.settings.region,
          endpoint: this.settings.endpoint,
          forcePathStyle: this.settings.pathStyle,
          maxAttempts: MAX_ATTEMPTS,
          // Checksums only where the API requires them: S3-compatible stores differ in the newer
          // CRC headers, and every object here carries its own sha256 check anyway.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
          requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: 10_000 },
        }),
    );
  }

  static fromUrl(target: string): S3Backend {
    return new S3Backend(parseS3Url(target));
  }

  private key(name: string): string {
    return this.root + checkObjectName(name);
  }

  async save(name: string, data: Buffer | AsyncIterable<Uint8Array>, options: SaveOptions = {}): Promise<void> {
    const Key = this.key(name);
    // A stream goes in one PUT when it is not too large: no parts to create and complete, and
    // SigV4 takes the digest rather than hashing every part again. The digest is the caller's
    // (a pack, named by it) or, for a stream of some size, computed here on a blob I/O thread.
    let { sha256 } = options;
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`saving ${name}: ${JSON.stringify(sha256)} is not a hex SHA-256`);
    if (!Buffer.isBuffer(data)) {
      data = await wholeWithin(data, sha256 ? ONE_PUT_BYTES : ONE_PUT_UNHASHED_BYTES);
      if (Buffer.isBuffer(data) && !sha256 && data.length >= HASH_OFF_THREAD_BYTES) {
        // The joined buffer is this call's own, so it may be moved to the thread and back.
        const hashed = await hashOffThread([data]);
        [data, sha256] = [hashed.parts[0]!, hashed.digest];
      }
    }
    // A PUT replaces atomically, so createOnly needs no look first: saving the same bytes again
    // changes nothing a reader sees (the encrypted backend, whose sealing differs each time, looks).
    const { client, sdk: loaded } = await this.s3();
    if (Buffer.isBuffer(data)) {
      const put = new loaded.PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.length });
      if (sha256) {
        // The store checks the bytes against it (S3 answers XAmzContentSHA256Mismatch), and the
        // signature covers it: the header SigV4 would otherwise fill by hashing the body.
        put.middlewareStack.add(
          (next) => (args) => {
            const request = args.request as { headers?: Record<string, string> };
            if (!request.headers) throw new Error(`saving ${name}: the S3 request has no headers to carry its SHA-256`);
            request.headers["x-amz-content-sha256"] = sha256;
            return next(args);
          },
          { step: "build", name: "knownContentSha256" },
        );
      }
      await client.send(put);
      return;
    }
    const upload = new loaded.Upload({ client, params: { Bucket: this.bucket, Key, Body: Readable.from(data, { objectMode: false }) }, partSize: PART_BYTES, queueSize: 2, leavePartsOnError: false });
    await upload.done();
  }

  async flush(): Promise<void> {}

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const Key = this.key(name);
    if (range) {
      const { offset, length } = range;
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new RangeError(`invalid range ${JSON.stringify(range)} for ${name} in ${this.location}`);
      }
      // An empty range has no Range header: the size says whether it lies inside the object.
      if (length === 0) {
        const info = await this.stat(name);
        if (!info) throw new ObjectNotFoundError(this.location, name);
        if (offset > info.size) throw new ObjectRangeError(this.location, name, range, info.size);
        return Buffer.alloc(0);
      }
    }
    const { client, sdk: loaded } = await this.s3();
    try {
      const answer = await client.send(new loaded.GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined }));
      const bytes = Buffer.from(await answer.Body!.transformToByteArray());
      // S3 answers a range that runs past the end with what there is: never hand back part of one.
      if (range && bytes.length !== range.length) {
        const total = Number(/\/(\d+)$/.exec(answer.ContentRange ?? "")?.[1] ?? range.offset + bytes.length);
        throw new ObjectRangeError(this.location, name, range, total);
      }
      return bytes;
    } catch (error) {
      if (isNotFound(error, loaded)) throw new ObjectNotFoundError(this.location, name);
      if (range && status(error) === 416) {
        const info = await this.stat(name);
        if (!info) throw new ObjectNotFoundError(this.location, name);
        throw new ObjectRangeError(this.location, name, range, info.size);
      }
      throw error;
    }
  }

  async stat(name: string): Promise<ObjectInfo | null> {
    const { client, sdk: loaded } = await this.s3();
    try {
      const head = await client.send(new loaded.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return { name, size: Number(head.ContentLength ?? 0) };
    } catch (error) {
      if (isNotFound(error, loaded)) return null;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // A prefix may end mid-name ("packs/a"), or be empty: it is valid when a name could follow it.
    try {
      checkObjectName(`${prefix}x`);
    } catch {
      throw new Error(`invalid object prefix ${JSON.stringify(prefix)}`);
    }
    const { client, sdk: loaded } = await this.s3();
    let token: string | undefined;
    do {
      const page = await client.send(new loaded.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.root + prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) yield { name: o.Key!.slice(this.root.length), size: Number(o.Size ?? 0) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async listFolders(folder: string): Promise<string[]> {
    checkFolderName(folder);
    const { client, sdk: loaded } = await this.s3();
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new loaded.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.root + folder, Delimiter: "/", ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) found.push(p.Prefix!.slice(this.root.length + folder.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async remove(name: string): Promise<void> {
    const { client, sdk: loaded } = await this.s3();
    await client.send(new loaded.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
  }

  async removeAll(folder: string): Promise<number> {
    checkFolderName(folder);
    if (folder === "") throw new Error("removeAll of the whole target is refused");
    const { client, sdk: loaded } = await this.s3();
    let batch: string[] = [];
    let count = 0;
    const drain = async () => {
      if (!batch.length) return;
      const answer = await client.send(new loaded.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = answer.Errors?.[0];
      if (failed) throw new Error(`cannot remove ${failed.Key} from ${this.location}: ${failed.Code} ${failed.Message}`);
      count += batch.length;
      batch = [];
    };
    for await (const o of this.list(folder)) {
      batch.push(this.root + o.name);
      if (batch.length === 1000) await drain();
    }
    await drain();
    return count;
  }

  /**
   * Closes the client this backend made, also one still being made. A later call makes a new one,
   * as a backend kept past `closeRepositories` (a test's, a job's still running) expects. A
   * client the caller gave is the caller's to close.
   */
  async close(): Promise<void> {
    if (this.given) return;
    (await this.client.take()?.catch(() => null))?.destroy();
  }
}
