/**
 * Writes a redo segment on one blob I/O thread (blob-io.ts): the header, then batches of records
 * given as their metadata JSON and where their message bytes are (in the row, or in the blob
 * volume by digest), then the trailer. The thread reads the blobs, frames the records (CRC32 over
 * every byte), hashes and writes them, so the caller's thread never holds the message bytes: it
 * reads the log while the thread writes, up to `DEPTH` batches ahead.
 *
 * Every `WRITEBACK_BYTES` written, a `datasync` starts in the background (not waited for), so the
 * disk writes back while the log is still being read and the caller's final sync has little left
 * to do: a sealed segment costs about the time of reading it, not reading it and then writing it.
 */
import type { FileHandle } from "node:fs/promises";
import { blobIo } from "../repository/blob-io.ts";
import { encodeHeader, encodeTrailer, type SegmentHeader } from "./segment-format.ts";

const WRITEBACK_BYTES = 8 << 20;
/** Batches sent ahead of the one being written. */
const DEPTH = 3;

/** A record to write: its metadata JSON text in the segment's shape, and its message bytes or the blob that holds them. */
export interface RecordToWrite {
  meta: string;
  blob?: Buffer;
  digest?: string;
}

type Thread = ReturnType<ReturnType<typeof blobIo>["pin"]>;

export class SegmentWriter {
  private inFlight: Promise<unknown>[] = [];
  private writeback: Promise<unknown> = Promise.resolve();
  private synced = 0;
  /** Digests of blobs the volume did not have: their records are written without bytes. */
  readonly blobsMissing: string[] = [];
  bytes = 0;

  private constructor(
    private readonly file: FileHandle,
    private readonly thread: Thread,
    private readonly segment: number,
  ) {}

  static async open(file: FileHandle, header: SegmentHeader): Promise<SegmentWriter> {
    const thread = blobIo().pin();
    const { segment, bytes } = await thread.run("segmentOpen", { fd: file.fd, head: encodeHeader(header) });
    const writer = new SegmentWriter(file, thread, segment);
    writer.bytes = bytes;
    return writer;
  }

  /** Sends a batch to the thread; waits only while `DEPTH` batches are ahead of the disk. */
  async append(records: RecordToWrite[], root: string): Promise<void> {
    // One conversion for the batch: a buffer per record and their concatenation showed in a
    // seal's profile. All ASCII (as most are), each record's length in bytes is its text's.
    const text = records.map((r) => r.meta).join("");
    const metas = Buffer.from(text);
    const ascii = metas.length === text.length;
    const sent = this.thread
      .run("segmentAppend", {
        segment: this.segment,
        root,
        metas,
        records: records.map((r) => ({ metaLength: ascii ? r.meta.length : Buffer.byteLength(r.meta), blob: r.blob, digest: r.digest })),
      })
      .then(({ missing, bytes }) => {
        this.blobsMissing.push(...missing);
        this.bytes = bytes;
        if (bytes - this.synced >= WRITEBACK_BYTES) {
          this.synced = bytes;
          // One writeback at a time; its error surfaces in finish().
          this.writeback = this.writeback.then(() => this.file.datasync());
          this.writeback.catch(() => {});
        }
      });
    sent.catch(() => {}); // awaited below or in finish(); a failure must not go unhandled meanwhile
    this.inFlight.push(sent);
    if (this.inFlight.length > DEPTH) await this.inFlight.shift();
  }

  /** Writes the trailer after every record; the caller syncs the file. */
  async finish(): Promise<void> {
    for (const sent of this.inFlight.splice(0)) await sent;
    const { records, bytes, digest } = await this.thread.run("segmentClose", { segment: this.segment });
    const trailer = encodeTrailer(records, Buffer.from(digest));
    await this.file.write(trailer, 0, trailer.length, bytes);
    this.bytes = bytes + trailer.length;
    await this.writeback;
  }

  /** Lets the thread forget a segment whose writing failed (after the failure, nothing more is sent). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
    await this.thread.run("segmentAbort", { segment: this.segment }).catch(() => {});
  }
}
