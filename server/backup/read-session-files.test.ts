import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SegmentCorruptError } from "../redo/segment-format.ts";
import { DamagedBackupFileError } from "./errors.ts";
import { gzipDamage, sessionSegmentError } from "./read-session-files.ts";

let dir: string;
let good: string;
let bad: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "mailvault-session-files-"));
  const bytes = gzipSync(Buffer.from("1\t2\tfolder\tInbox\n".repeat(2000)));
  good = path.join(dir, "good.copy.gz");
  bad = path.join(dir, "bad.copy.gz");
  await writeFile(good, bytes);
  const damaged = Buffer.from(bytes);
  damaged[damaged.length - 6] = damaged[damaged.length - 6]! ^ 0xff; // inside the gzip trailer's CRC
  await writeFile(bad, damaged);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("gzipDamage", () => {
  it("takes zlib's own error as the damage", async () => {
    expect(await gzipDamage(bad, Object.assign(new Error("incorrect data check"), { code: "Z_DATA_ERROR" }))).toBe("incorrect data check");
  });

  it("reads the file again when the consumer failed first, and finds the damage", async () => {
    const copyError = Object.assign(new Error('invalid input syntax for type integer: "\u0007"'), { code: "22P02" });
    expect(await gzipDamage(bad, copyError)).toBe("incorrect data check");
  });

  it("blames nothing on a file that reads back whole", async () => {
    expect(await gzipDamage(good, Object.assign(new Error("terminating connection"), { code: "57P01" }))).toBeNull();
  });

  it("says a missing file is missing", async () => {
    const missing = path.join(dir, "gone.copy.gz");
    expect(await gzipDamage(missing, Object.assign(new Error(`ENOENT: no such file or directory, open '${missing}'`), { code: "ENOENT" }))).toBe("the file is missing");
  });
});

describe("sessionSegmentError", () => {
  const file = "/backups/mail1/sessions/incr-20261203.082440.882/redologs/redo-20261203.082440.417-seq163-259.log";

  it("names the session and the segment's path", () => {
    const error = sessionSegmentError(file, new SegmentCorruptError(path.basename(file), 357229, "record 40: checksum mismatch"));
    expect(error).toBeInstanceOf(DamagedBackupFileError);
    expect((error as Error).message).toBe(
      `session incr-20261203.082440.882: ${file} is damaged: record 40: checksum mismatch (at byte 357229); run verify -lb incr-20261203.082440.882`,
    );
  });

  it("leaves an error that is not the file's as it is", () => {
    const error = new Error("restore aborted");
    expect(sessionSegmentError(file, error)).toBe(error);
  });
});
