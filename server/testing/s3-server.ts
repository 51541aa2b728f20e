/**
 * A real S3-speaking server on 127.0.0.1 for tests and benches: s3rver (npm), which answers the
 * S3 REST API (SigV4-signed requests, ranges, ListObjectsV2 with continuation, multipart
 * uploads) from a folder. Nothing is mocked on the client side: the S3 backend talks HTTP to it
 * through the AWS SDK as it would to AWS or MinIO.
 *
 * One change: s3rver writes an object in place, so a reader could see a half-written object,
 * which S3 never shows. Its store here writes each object under a temporary name and renames it
 * over the key, as S3's atomic PUT behaves. MinIO or Ceph would need a download this machine
 * cannot make (shared/STACK.md).
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createHash } from "node:crypto";

const require = createRequire(import.meta.url);

interface StoredObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | Readable;
}

interface Range {
  start?: number;
  end?: number;
}

interface ListOptions {
  delimiter?: string;
  prefix?: string;
  startAfter?: string;
  maxKeys?: number;
}

interface Listing {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

interface StoredRead {
  content: Readable | null;
  range?: { start: number; end: number };
}

interface FilesystemStoreLike {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
}

export interface S3TestServer {
  endpoint: string;
  /** The target URL of `bucket` under `prefix`. */
  url(bucket: string, prefix?: string): string;
  /** The folder s3rver keeps the buckets in (to damage an object on purpose). */
  directory: string;
  /** Where s3rver keeps the bytes of an object. */
  objectPath(bucket: string, key: string): string;
  /**
   * Stops the server, as a network failure would, the moment an object whose key matches is
   * being stored: that request and every open connection are cut, and later ones are refused.
   * Resolves once it has stopped.
   */
  stopOnPut(match: (key: string) => boolean): Promise<void>;
  /** Stops it now, as a network outage would (open connections cut, new ones refused); `restart` brings it back. */
  pause(): Promise<void>;
  /** Starts it again on the same port and folder, with everything it held. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials s3rver accepts; the SDK reads them from the environment, as in production. */
export function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
}

/** The target URL of `bucket` under `prefix` on the s3rver at `endpoint`. */
export function s3TargetUrl(endpoint: string, bucket: string, prefix = ""): string {
  return `s3://${bucket}${prefix ? `/${prefix}` : ""}?${new URLSearchParams({ endpoint, pathStyle: "1" })}`;
}

/**
 * `latencyMs` holds each request that long before s3rver sees it: on loopback a request costs
 * only the server's CPU, while a store in another building answers 10-50 ms later (the benches'
 * `--s3-latency`).
 */
export async function startS3Server(options: { buckets: string[]; port?: number; latencyMs?: number }): Promise<S3TestServer> {
  const S3rver = require("s3rver");
  const FilesystemStore = require("s3rver/lib/stores/filesystem") as new (directory: string) => {
    getObject(bucket: string, key: string, options?: Range): Promise<StoredRead | null>;
    listObjects(bucket: string, options: ListOptions): Promise<Listing>;
  };
  let onPut: ((key: string) => boolean) | null = null;
  let halted: () => void = () => {};
  class AtomicStore extends FilesystemStore {
    /** s3rver reads `bytes=N-0` as "to the end" (0 is falsy there); S3 gives the one byte. */
    override async getObject(this: FilesystemStoreLike & { getObjectAsStored(b: string, k: string, o?: Range): Promise<StoredRead | null> }, bucket: string, key: string, options?: Range): Promise<StoredRead | null> {
      const object = await this.getObjectAsStored(bucket, key, options);
      if (!object || options?.end !== 0 || !object.range || !(object.content instanceof Readable)) return object;
      object.content.destroy();
      object.range.end = 0;
      object.content = options.start === 0 ? createReadStream(this.getResourcePath(bucket, key, "object"), { start: 0, end: 0 }) : object.content;
      return object;
    }

    getObjectAsStored(bucket: string, key: string, options?: Range): Promise<StoredRead | null> {
      return super.getObject(bucket, key, options);
    }

    /**
     * s3rver does not descend below a folder two levels under the prefix when a delimiter is
     * given, so `a/b/c` alone yields no common prefix `a/`; S3 gives it. Grouped here instead.
     */
    override async listObjects(bucket: string, options: ListOptions): Promise<Listing> {
      const { delimiter, prefix = "" } = options;
      if (!delimiter) return super.listObjects(bucket, options);
      const all: Listing = await super.listObjects(bucket, { ...options, delimiter: "", maxKeys: Infinity });
      const objects: Listing["objects"] = [];
      const prefixes = new Set<string>();
      for (const o of all.objects) {
        const cut = o.key.slice(prefix.length).indexOf(delimiter);
        if (cut < 0) objects.push(o);
        else prefixes.add(o.key.slice(0, prefix.length + cut + 1));
      }
      return { objects, commonPrefixes: [...prefixes].sort(), isTruncated: false };
    }

    async putObject(this: FilesystemStoreLike, object: StoredObject): Promise<{ size: number; md5: string }> {
      if (onPut?.(object.key)) {
        onPut = null;
        halt();
        throw new Error("the server stopped");
      }
      const file = this.getResourcePath(object.bucket, object.key, "object");
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
      const md5 = createHash("md5");
      let size = 0;
      const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
      try {
        await pipeline(
          source,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              md5.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(temp),
        );
        const digest = md5.digest("hex");
        await this.putMetadata(object.bucket, object.key, object.metadata, digest);
        await rename(temp, file);
        return { size, md5: digest };
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    }
  }
  const directory = await mkdtemp(path.join(os.tmpdir(), "mailvault-s3-"));
  const store = new AtomicStore(directory);
  const serve = async (port: number) => {
    const server = new S3rver({ port, address: "127.0.0.1", directory, silent: true, configureBuckets: options.buckets.map((name) => ({ name })) });
    server.store = store;
    server.context.store = store;
    const address = (await server.run()) as { port: number };
    const latency = options.latencyMs ?? 0;
    if (latency > 0) {
      const http = server.httpServer as import("node:http").Server;
      const handlers = http.listeners("request") as ((...args: unknown[]) => void)[];
      http.removeAllListeners("request");
      http.on("request", (...args: unknown[]) => setTimeout(() => handlers.forEach((handle) => handle.apply(http, args)), latency));
    }
    return { server, port: address.port };
  };
  let running = await serve(options.port ?? 0);
  const { port } = running;
  const halt = () => {
    const http = running.server.httpServer as import("node:http").Server;
    http.close(() => halted());
    http.closeAllConnections();
  };
  const endpoint = `http://127.0.0.1:${port}`;
  useTestCredentials();
  return {
    endpoint,
    directory,
    url: (bucket, prefix) => s3TargetUrl(endpoint, bucket, prefix),
    objectPath: (bucket, key) => (store as unknown as FilesystemStoreLike).getResourcePath(bucket, key, "object"),
    stopOnPut: (match) =>
      new Promise<void>((resolve) => {
        halted = resolve;
        onPut = match;
      }),
    pause: () =>
      new Promise<void>((resolve) => {
        halted = resolve;
        halt();
      }),
    restart: async () => {
      running = await serve(port);
    },
    stop: async () => {
      await running.server.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
