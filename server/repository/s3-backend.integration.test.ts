import { randomBytes } from "node:crypto";
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
