/**
 * Reading a published session's files back for a restore, so that damage is named: which
 * session, which file on the target, what the reader found, and what to run next
 * (DamagedBackupFileError), rather than zlib's bare `incorrect data check` or a segment's name
 * without the session it sits in. A failure that is not the file's fault (the database, say)
 * passes through unchanged.
 */
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { SegmentCorruptError } from "../redo/segment-format.ts";
import { DamagedBackupFileError } from "./errors.ts";

/** Errors of reading a file that mean the file itself is unusable. */
const FILE_ERRORS = new Set(["ENOENT", "EIO", "EISDIR"]);

function fileProblem(error: unknown): string | null {
  const code = (error as { code?: string }).code ?? "";
  if (code === "ENOENT" || code === "object_not_found") return "the file is missing";
  if (code.startsWith("Z_") || FILE_ERRORS.has(code)) return (error as Error).message;
  return null;
}

/**
 * What is wrong with a gzip file that `error` came from reading, or null when the file unpacks
 * whole and the failure lies elsewhere. A flipped byte can reach the consumer as garbage (COPY's
 * "invalid input syntax") before gunzip's checksum fails, so anything but a plain file or zlib
 * error is settled by reading the file again (`reread`) and unpacking it to its end.
 */
export async function gzipDamage(reread: () => AsyncIterable<Buffer>, error: unknown): Promise<string | null> {
  const direct = fileProblem(error);
  if (direct) return direct;
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  return pipeline(Readable.from(reread()), createGunzip(), discard).then(
    () => null,
    (again: unknown) => fileProblem(again) ?? (again as Error).message,
  );
}

/**
 * The error to report for `error`, met reading a redo segment of the published session `label`:
 * `file` is where the segment is, as BackupTarget.describe names it (`<target>/sessions/<label>/
 * redologs/<name>`, or `<target>/redo/<name>` for a shipped one the session names). Damage becomes
 * a DamagedBackupFileError naming the session and the file's path; anything else is returned as it is.
 */
export function sessionSegmentError(label: string, file: string, error: unknown): unknown {
  if (error instanceof DamagedBackupFileError) return error;
  if (error instanceof SegmentCorruptError) return new DamagedBackupFileError(label, file, `${error.reason} (at byte ${error.offset})`);
  const problem = fileProblem(error);
  return problem ? new DamagedBackupFileError(label, file, problem) : error;
}
