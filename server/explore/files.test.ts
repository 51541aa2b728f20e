/** The pure parts of reading mail out of a backup: mbox entries, zip entries, recipients from a header. */
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { mboxEntry, zipStream, type DownloadSelection } from "./download.ts";
import { recipientsOf } from "./list-messages.ts";
import type { MailSource } from "./views.ts";

const sourceWith = (readBlob: MailSource["readBlob"]) => ({ readBlob }) as unknown as MailSource;
const row = (id: number, path: string, date: Date) => ({ id, subject: `Subject ${id}`, sender: "a@example.net", date, blob_digest: `d${id}`, path });

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(stream, new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }));
  return Buffer.concat(chunks);
}

describe("mbox entries", () => {
  it("quote From lines in the body (mboxrd) and end with a blank line", () => {
    const entry = mboxEntry("bob@example.com", new Date(Date.UTC(2026, 11, 3, 14, 52, 10)), Buffer.from("Subject: x\r\n\r\nFrom here\r\n>From there\r\n"));
    expect(entry.toString("latin1")).toBe("From bob@example.com Thu Dec 03 14:52:10 2026\nSubject: x\n\n>From here\n>>From there\n\n");
  });
});

describe("zip downloads", () => {
  it("name entries by folder and subject, keep dates before 1980 and folders named .. inside the zip", async () => {
    const selection: DownloadSelection = { name: "x.zip", rows: [row(1, "/Inbox", new Date(0)), row(2, "/../Evil", new Date())] };
    const zip = await drain(zipStream(sourceWith(async (d) => Buffer.from(`Subject: ${d}\r\n\r\nbody\r\n`)), selection));
    const names = zip.toString("latin1");
    expect(names).toContain("Inbox/Subject 1-1.eml");
    expect(names).toContain("_/Evil/Subject 2-2.eml");
    expect(names).not.toContain("../");
  });

  it("end with an error, not hang, when a body cannot be read", async () => {
    const selection: DownloadSelection = { name: "x.zip", rows: [row(1, "/Inbox", new Date())] };
    await expect(drain(zipStream(sourceWith(async () => Promise.reject(new Error("pack damaged"))), selection))).rejects.toThrow(/pack damaged/);
  });
});

describe("recipientsOf", () => {
  it("reads To and Cc, folded and MIME-encoded, and nothing else", () => {
    const head = Buffer.from("From: x@example.net\r\nTo: =?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>,\r\n  team@example.org\r\nCc: boss@example.com\r\nSubject: to: nobody@example.com\r\n\r\nTo: body@example.com\r\n");
    const found = recipientsOf(head);
    expect(found).toContain("jürgen <juergen@example.de>");
    expect(found).toContain("team@example.org");
    expect(found).toContain("boss@example.com");
    expect(found).not.toContain("nobody@");
    expect(found).not.toContain("body@example.com");
  });
});
