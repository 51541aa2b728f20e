import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { SegmentCorruptError } from "../redo/segment-format.ts";
import { ObjectNotFoundError } from "../repository/backend.ts";
import { DamagedBackupFileError } from "./errors.ts";
import { gzipDamage, sessionSegmentError } from "./read-session-files.ts";

const good = gzipSync(Buffer.from("1\t2\tfolder\tInbox\n".repeat(2000)));
const bad = Buffer.from(good);
bad[bad.length - 6] = bad[bad.length - 6]! ^ 0xff; // inside the gzip trailer's CRC
const once = (bytes: Buffer) => async function* () {
  yield bytes;
};

describe("gzipDamage", () => {
  it("takes zlib's own error as the damage", async () => {
    expect(await gzipDamage(once(bad), Object.assign(new Error("incorrect data check"), { code: "Z_DATA_ERROR" }))).toBe("incorrect data check");
  });

  it("unpacks the file again when the consumer failed first, and finds the damage", async () => {
    const copyError = Object.assign(new Error('invalid input syntax for type integer: "\u0007"'), { code: "22P02" });
    expect(await gzipDamage(once(bad), copyError)).toBe("incorrect data check");
  });

  it("blames nothing on a file that reads back whole", async () => {
    expect(await gzipDamage(once(good), Object.assign(new Error("terminating connection"), { code: "57P01" }))).toBeNull();
  });

  it("says a missing file is missing", async () => {
    expect(await gzipDamage(once(Buffer.alloc(0)), new ObjectNotFoundError("/backups/mail1", "sessions/full-20261203.082440.882/accounts/a/items.copy.gz"))).toBe("the file is missing");
  });
});

describe("sessionSegmentError", () => {
  const file = "/backups/mail1/sessions/incr-20261203.082440.882/redologs/redo-20261203.082440.417-seq163-259.log";

  it("names the session and the segment's path", () => {
    const error = sessionSegmentError("incr-20261203.082440.882", file, new SegmentCorruptError(path.basename(file), 357229, "record 40: checksum mismatch"));
    expect(error).toBeInstanceOf(DamagedBackupFileError);
    expect((error as Error).message).toBe(
      `session incr-20261203.082440.882: ${file} is damaged: record 40: checksum mismatch (at byte 357229); run verify -lb incr-20261203.082440.882`,
    );
  });

  it("names the session that names a shipped segment, and the segment where it is", () => {
    const shipped = "/backups/mail1/redo/redo-20261203.082440.417-seq163-259.log";
    const error = sessionSegmentError("incr-20261203.082440.882", shipped, new SegmentCorruptError(path.basename(shipped), 12, "header checksum mismatch"));
    expect((error as Error).message).toBe(
      `session incr-20261203.082440.882: ${shipped} is damaged: header checksum mismatch (at byte 12); run verify -lb incr-20261203.082440.882`,
    );
  });

  it("leaves an error that is not the file's as it is", () => {
    const error = new Error("restore aborted");
    expect(sessionSegmentError("incr-20261203.082440.882", file, error)).toBe(error);
  });
});
