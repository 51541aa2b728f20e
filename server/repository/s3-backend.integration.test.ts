import { createHash, randomBytes } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Server, type S3TestServer } from "../testing/s3-server.ts";
import { describeBackendConformance } from "./backend-conformance.ts";
import { parseS3Url, S3Backend } from "./s3-backend.ts";

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ["conformance"] });
});
afterAll(() => s3?.stop());

// Each test gets its own prefix in the bucket, so nothing it leaves can meet the next one.
describeBackendConformance("S3 (s3rver on 127.0.0.1)", async () => {
  const prefix = `t-${randomBytes(4).toString("hex")}`;
  const backend = S3Backend.fromUrl(s3.url("conformance", prefix));
  return {
    backend,
    cleanup: async () => {
      for await (const o of backend.list("")) await backend.remove(o.name);
      await backend.close();
    },
  };
});

describe("S3 target URLs", () => {
  it("read the bucket, prefix, endpoint, region and path style", () => {
    expect(parseS3Url("s3://backups/mail1/main?endpoint=http://127.0.0.1:9000&pathStyle=1&region=eu-west-1")).toEqual({
      bucket: "backups",
      prefix: "mail1/main",
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-1",
      pathStyle: true,
    });
    expect(parseS3Url("s3://backups")).toMatchObject({ bucket: "backups", prefix: "", pathStyle: false, endpoint: undefined });
  });

  it("refuse credentials in the URL, unknown settings, bad names and endpoints, each with what to do", () => {
    expect(() => parseS3Url("s3://key:secret@backups/x")).toThrow(/carries no credentials: set AWS_ACCESS_KEY_ID/);
    expect(() => parseS3Url("s3://backups/x?secret=1")).toThrow(/unknown S3 target setting "secret"/);
    expect(() => parseS3Url("s3://B!/x")).toThrow(/invalid/);
    expect(() => parseS3Url("s3://backups/a//b")).toThrow(/invalid object name/);
    expect(() => parseS3Url("s3://backups/x?endpoint=ftp://h")).toThrow(/invalid S3 endpoint/);
    expect(() => parseS3Url("s3://backups/x?pathStyle=yes")).toThrow(/pathStyle is 0 or 1/);
  });
});

describe("An S3 backend closed", () => {
  it("before its first use, or while its client is being made, and then used again, answers with a new client", async () => {
    const unused = S3Backend.fromUrl(s3.url("conformance", "closed-early"));
    await unused.close();
    expect(await unused.stat("x")).toBeNull();
    await unused.close();
    const used = S3Backend.fromUrl(s3.url("conformance", "closed-late"));
    const first = used.stat("x");
    await used.close();
    await first.catch(() => {}); // asked before the close: answered or cut off, either is fine
    await used.save("x", Buffer.from("after"));
    expect((await used.read("x")).toString()).toBe("after");
    await used.remove("x");
    await used.close();
  });
});

describe("S3 saves in one PUT", () => {
  it("send a stream in one PUT carrying its SHA-256, given or computed, and only a long one in parts", async () => {
    const settings = parseS3Url(s3.url("conformance", `d-${randomBytes(4).toString("hex")}`));
    // Configured as the backend configures its own (checksums only where required).
    const client = new S3Client({ region: settings.region, endpoint: settings.endpoint, forcePathStyle: settings.pathStyle, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
    // What leaves the client, signed: the innermost step sees each request as it is sent.
    const sent: { method: string; query: string; contentSha256: string | undefined }[] = [];
    client.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { method: string; query?: Record<string, unknown>; headers: Record<string, string> };
        sent.push({ method: request.method, query: Object.keys(request.query ?? {}).join(","), contentSha256: request.headers["x-amz-content-sha256"] });
        return next(args);
      },
      { step: "deserialize", name: "recordSent" },
    );
    const backend = new S3Backend(settings, client);
    const bytes = randomBytes(20 * 1024 * 1024);
    const digest = createHash("sha256").update(bytes).digest("hex");
    async function* inChunks(of: Buffer) {
      for (let at = 0; at < of.length; at += 1 << 20) yield of.subarray(at, at + (1 << 20));
    }
    const chunks = () => inChunks(bytes);
    try {
      await backend.save("packs/ab/known", chunks(), { sha256: digest });
      expect(sent).toEqual([{ method: "PUT", query: "x-id", contentSha256: digest }]);
      expect((await backend.read("packs/ab/known")).equals(bytes)).toBe(true);

      // Without a digest: still one PUT, carrying the bytes' own SHA-256.
      sent.length = 0;
      await backend.save("packs/ab/unknown", chunks());
      expect(sent).toEqual([{ method: "PUT", query: "x-id", contentSha256: digest }]);
      expect((await backend.read("packs/ab/unknown")).equals(bytes)).toBe(true);

      // A stream too long to hold goes in parts.
      const long = Buffer.concat([bytes, bytes]);
      sent.length = 0;
      await backend.save("packs/ab/long", inChunks(long));
      expect(sent.filter((r) => r.query.includes("uploads")).length).toBe(1); // a multipart upload
      expect(sent.filter((r) => r.method === "PUT").length).toBe(5); // its 8 MiB parts
      expect((await backend.read("packs/ab/long")).equals(long)).toBe(true);

      // A small one is signed as a body SigV4 hashes itself, with the same digest.
      const small = bytes.subarray(0, 1000);
      sent.length = 0;
      await backend.save("packs/ab/small", inChunks(small));
      expect(sent).toEqual([{ method: "PUT", query: "x-id", contentSha256: createHash("sha256").update(small).digest("hex") }]);

      // The digest given is what is signed and sent, not one the SDK computes from the bytes. (S3
      // would refuse these bytes under another digest; s3rver does not check.)
      const other = createHash("sha256").update("other bytes").digest("hex");
      sent.length = 0;
      await backend.save("packs/ab/claimed", bytes.subarray(0, 1000), { sha256: other });
      expect(sent).toEqual([{ method: "PUT", query: "x-id", contentSha256: other }]);

      await expect(backend.save("packs/ab/bad", bytes, { sha256: "not a digest" })).rejects.toThrow(/is not a hex SHA-256/);
      expect(await backend.stat("packs/ab/bad")).toBeNull();
    } finally {
      for await (const o of backend.list("")) await backend.remove(o.name);
      await backend.close();
      // The client is the test's: closing the backend left it open, and calls still go through it.
      sent.length = 0;
      expect(await backend.stat("packs/ab/known")).toBeNull();
      expect(sent.map((r) => r.method)).toEqual(["HEAD"]);
      client.destroy();
    }
  });
});
