/**
 * Blob-volume file work on worker threads (blob-io.worker.mjs): reading, hashing and compressing
 * blobs for a backup, checking, decompressing and writing them for a restore, and writing the
 * redo segments the archiver seals (delivered messages read, framed and hashed there). One thread per
 * core, each doing plain synchronous calls on batches of blobs, while the main thread keeps the
 * packs, the database and the queue moving. The threads are started on first use and do not keep
 * a process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Compression } from "./pack-format.ts";

export interface PreparedBlob {
  digest: string;
  stored: Uint8Array;
  rawLength: number;
  compression: Compression;
}

export interface PackedInput {
  missing: string[];
  mismatched: { digest: string; actual: string }[];
  blobs: PreparedBlob[];
}

interface Operations {
  pack: { input: { root: string; digests: string[]; compress: boolean }; output: PackedInput };
  absent: { input: { root: string; digests: string[] }; output: string[] };
  unpack: {
    input: { root: string; span: Uint8Array; blobs: { digest: string; offset: number; length: number; rawLength: number; compression: Compression }[] };
    /** `span` is the input's, moved back (see blob-io.worker.mjs). */
    output: { written: number; damaged: { digest: string; detail: string }[]; span: Uint8Array };
  };
  /** The SHA-256 (hex) of the parts one after another (a pack's name), and the parts moved back. */
  hash: { input: { parts: Uint8Array[] }; output: { digest: string; parts: Uint8Array[] } };
  segmentOpen: { input: { fd: number; head: Uint8Array }; output: { segment: number; bytes: number } };
  segmentAppend: {
    /** Every record's metadata JSON in one buffer (a small buffer posted alone would copy its whole shared pool), in order. */
    input: { segment: number; root: string; metas: Uint8Array; records: { metaLength: number; blob?: Uint8Array; digest?: string }[] };
    output: { missing: string[]; bytes: number };
  };
  segmentClose: { input: { segment: number }; output: { records: number; bytes: number; digest: Uint8Array } };
  segmentAbort: { input: { segment: number }; output: null };
}

interface Pending {
  resolve(output: unknown): void;
  reject(error: Error): void;
}

class Thread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor() {
    // A small heap makes the thread collect often, so the buffers it is done with (external
    // memory, freed by its collections) do not pile up across a restore of 100,000 blobs.
    this.worker = new Worker(new URL("./blob-io.worker.mjs", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 } });
    this.worker.unref();
    this.worker.on("message", ({ id, output, error }: { id: number; output?: unknown; error?: { message: string; code?: string } }) => {
      const pending = this.pending.get(id);
      if (!pending) return;
      this.pending.delete(id);
      if (!this.pending.size) this.worker.unref();
      if (error) pending.reject(Object.assign(new Error(error.message), { code: error.code }));
      else pending.resolve(output);
    });
    const failAll = (error: Error) => {
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on("error", failAll);
    this.worker.on("exit", (code) => failAll(new Error(`a blob I/O thread stopped (exit code ${code})`)));
  }
}

let nextId = 1;

/** The buffers of a request that are moved to the thread rather than copied (when they own their memory). */
const MOVED: { [K in keyof Operations]?: (input: Operations[K]["input"]) => Uint8Array[] } = {
  unpack: (input) => [input.span],
  hash: (input) => input.parts,
  segmentAppend: (input) => [input.metas],
};

/**
 * The buffers among `views` that own their whole memory, to be moved to the other thread rather
 * than copied (the sender must not use them again). A slice of a shared pool is copied instead.
 */
export function transferable(views: Uint8Array[]): ArrayBuffer[] {
  return views.filter((v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer).map((v) => v.buffer as ArrayBuffer);
}

export class BlobIo {
  private threads: Thread[] = [];
  private dead = false;

  constructor(private readonly size = Math.max(1, Math.min(4, availableParallelism()))) {}

  /** How many requests keep every thread busy (two each: one running, one waiting). */
  get width(): number {
    return this.size * 2;
  }

  private pick(): Thread {
    this.threads = this.threads.filter((t) => t.worker.threadId !== -1);
    if (this.threads.length < this.size) {
      const thread = new Thread();
      thread.worker.on("exit", () => (this.threads = this.threads.filter((t) => t !== thread)));
      this.threads.push(thread);
      return thread;
    }
    return this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /**
   * Runs one request on the least busy thread, or on `on` (from `pin`). The buffers `MOVED` names
   * for the operation are moved there when they own their memory: do not use them afterwards.
   */
  run<K extends keyof Operations>(op: K, input: Operations[K]["input"], on?: Thread): Promise<Operations[K]["output"]> {
    if (this.dead) return Promise.reject(new Error("the blob I/O threads are closed"));
    const thread = on && on.worker.threadId !== -1 ? on : on ? null : this.pick();
    if (!thread) return Promise.reject(new Error("the blob I/O thread of this request stopped"));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve: resolve as (o: unknown) => void, reject });
      thread.worker.ref();
      thread.worker.postMessage({ id, op, input }, transferable(MOVED[op]?.(input) ?? []));
    });
  }

  /** One thread for a series of requests that keep state there (a segment), run in the order given. */
  pin(): { run<K extends keyof Operations>(op: K, input: Operations[K]["input"]): Promise<Operations[K]["output"]> } {
    const thread = this.pick();
    return { run: (op, input) => this.run(op, input, thread) };
  }

  async close(): Promise<void> {
    this.dead = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads = [];
  }
}

/**
 * The SHA-256 of `parts` one after another, computed on a blob I/O thread, and the parts to use
 * from then on: they are moved there and back, not copied (the caller must not use `parts`
 * again). A part that is a view of a larger buffer is first cut out, so only its own bytes go.
 * Hashing a full's packs on the main thread took a tenth of its time; copying them took most of
 * that again.
 */
export async function hashOffThread(parts: Uint8Array[]): Promise<{ digest: string; parts: Buffer[] }> {
  const seen = new Set<ArrayBufferLike>();
  const own = parts.map((p) => {
    const whole = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer && !seen.has(p.buffer);
    const part = whole ? p : Uint8Array.prototype.slice.call(p);
    seen.add(part.buffer);
    return part;
  });
  const result = await blobIo().run("hash", { parts: own });
  return { digest: result.digest, parts: result.parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)) };
}

let shared: BlobIo | null = null;

/** The process's blob I/O threads. */
export function blobIo(): BlobIo {
  shared ??= new BlobIo();
  return shared;
}

/** The digests the blob volume at `root` has no file for, looked up on the I/O threads 512 at a time. */
export async function absentDigests(root: string, digests: string[]): Promise<string[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < digests.length; i += 512) chunks.push(digests.slice(i, i + 512));
  return (await Promise.all(chunks.map((chunk) => blobIo().run("absent", { root, digests: chunk })))).flat();
}

export async function closeBlobIo(): Promise<void> {
  const io = shared;
  shared = null;
  await io?.close();
}
