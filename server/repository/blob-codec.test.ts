import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressed, inflate } from "./blob-codec.mjs";

const text = Buffer.from("Subject: quarterly report\r\n\r\n" + "The numbers are in the attachment. ".repeat(400));

describe("blob codec", () => {
  it("stores mail text as zstd and gives the same bytes back", async () => {
    const packed = await compressed(text);
    expect(packed).not.toBeNull();
    expect(packed!.length).toBeLessThan(text.length * 0.9);
    expect(await inflate("zstd", packed!)).toEqual(text);
  });

  it("leaves small and incompressible blobs as they are, judging a large one on a sample", async () => {
    expect(await compressed(text.subarray(0, 512))).toBeNull();
    expect(await compressed(randomBytes(64 * 1024))).toBeNull();
    // Random first 64 KiB: the whole 1 MiB is not tried, though its rest would compress.
    expect(await compressed(Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(1 << 20)]))).toBeNull();
  });

  it("reads what older versions stored with gzip, and refuses a codec it does not know", async () => {
    expect(await inflate("gzip", gzipSync(text))).toEqual(text);
    expect(await inflate("none", text)).toBe(text);
    await expect(inflate("lz4", text)).rejects.toThrow('unknown compression "lz4"');
    await expect(inflate("zstd", Buffer.from("not zstd at all"))).rejects.toThrow();
  });
});
