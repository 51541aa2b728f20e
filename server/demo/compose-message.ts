/**
 * Realistic MIME messages for the traffic generator, built deterministically from a PRNG: a
 * text part, usually an HTML alternative, sometimes an attachment that makes up most of the size.
 * Sizes run from about 2 KB to 2 MB, most of them small, as in a real mailbox.
 */
import type { Random } from "./random.ts";

const WORDS = (
  "quarterly budget review meeting notes project deadline proposal invoice contract agenda update " +
  "schedule follow-up customer feedback release draft report analysis forecast team offsite hiring " +
  "travel expenses approval migration backup server outage incident roadmap planning workshop"
).split(" ");

const EXTERNAL = ["partner.example.net", "vendor.example.org", "news.example.net", "client.example.com"];

function sentence(rng: Random, words: number): string {
  const text = Array.from({ length: words }, () => rng.pick(WORDS)).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function wrap(text: string, width = 76): string {
  return text.replace(new RegExp(`(.{1,${width}})`, "g"), "$1\r\n").trimEnd();
}

/**
 * Size in bytes from 2 KB to 2 MB: most messages a few KB (median about 4 KB, 98% under
 * 200 KB), one in fifty a large attachment between 200 KB and 2 MB.
 */
export function messageSize(rng: Random): number {
  if (rng.chance(0.02)) return Math.round(200 * 1024 * Math.pow(10, rng.next()));
  return Math.round(2048 * Math.pow(100, Math.pow(rng.next(), 3)));
}

export interface ComposedMessage {
  bytes: Buffer;
  subject: string;
}

export function composeMessage(rng: Random, options: { to: string[]; from?: string; date: Date; serial: number }): ComposedMessage {
  const size = messageSize(rng);
  const subject = `${rng.chance(0.2) ? "Re: " : ""}${sentence(rng, rng.int(2, 6))}`;
  const from = options.from ?? `${rng.pick(["ana", "ben", "chris", "dee", "eli"])}@${rng.pick(EXTERNAL)}`;
  const boundary = `mv-${options.serial.toString(36)}-${Math.floor(rng.next() * 1e9).toString(36)}`;
  const textBody = wrap(Array.from({ length: rng.int(2, 8) }, () => `${sentence(rng, rng.int(6, 18))}.`).join(" "));
  const headers = [
    `From: ${from}`,
    `To: ${options.to.join(", ")}`,
    `Subject: ${subject}`,
    `Date: ${options.date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <traffic-${options.serial}@mailvault.example>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
  ];
  const parts = [`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${textBody}\r\n`];
  if (rng.chance(0.7)) {
    parts.push(`--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<html><body><p>${textBody.replace(/\r\n/g, " ")}</p></body></html>\r\n`);
  }
  const used = headers.join("\r\n").length + parts.join("").length + 200;
  if (size > used + 512) {
    const raw = rng.bytes(Math.floor(((size - used) * 3) / 4));
    const name = `${rng.pick(WORDS)}-${options.serial}.${rng.pick(["pdf", "xlsx", "png", "docx"])}`;
    parts.push(
      `--${boundary}\r\nContent-Type: application/octet-stream; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap(raw.toString("base64"))}\r\n`,
    );
  }
  const bytes = Buffer.from(`${headers.join("\r\n")}\r\n\r\n${parts.join("")}--${boundary}--\r\n`);
  return { bytes, subject };
}
