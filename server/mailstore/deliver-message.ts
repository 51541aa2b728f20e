/**
 * Delivery of one message to one or many local recipients, as LMTP does it: the bytes are
 * stored once in the blob volume (content-addressed, shared by every recipient), then one
 * transaction locks the recipients' mailboxes in id order, files the message in each and writes
 * one redo record per mailbox. The first record carries the message: in the log it names the
 * blob by digest (the bytes are in the volume, synced before the commit, and go through the
 * database's WAL not at all), and the archiver copies the bytes into the segment that seals it.
 * The others name that record (`blobSeq`), so the archived redo holds each delivered message once
 * and a lost blob volume can be rebuilt from it. A recipient that does not exist or is over quota
 * is refused on its own; the others still get the message.
 */
import { MailvaultError } from "../errors.ts";
import { mailparser } from "../mail-libraries.ts";
import { sha256 } from "./blob-store.ts";
import { MailboxNotFoundError, QuotaExceededError } from "./errors.ts";
import { FLAG, INBOX, type FlagName, type MailboxRow } from "./items.ts";
import { commitChange, inTransaction, MailboxTx, prepared, type Committed } from "./mailbox-tx.ts";
import type { Mailstore } from "./mailstore.ts";

export interface DeliverInput {
  /** Recipient email addresses (current names) on this server. */
  recipients: string[];
  bytes: Buffer;
  folderId?: number;
  flags?: FlagName[];
  receivedAt?: Date;
}

export interface ParsedHeaders {
  sender: string | null;
  subject: string | null;
  date: Date | null;
}

/** Sender, subject and date from the header block only: the body is never decoded here. */
export async function parseHeaders(bytes: Buffer): Promise<ParsedHeaders> {
  const end = bytes.indexOf("\r\n\r\n");
  const endLf = bytes.indexOf("\n\n");
  const cut = end >= 0 ? end + 4 : endLf >= 0 ? endLf + 2 : bytes.length;
  const { simpleParser } = await mailparser();
  const parsed = await simpleParser(bytes.subarray(0, cut), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  // PostgreSQL's text holds no NUL: a header carrying one (a broken or hostile sender) is stored
  // with U+FFFD in its place, as a mail reader shows it; the message's bytes stay as they came.
  const clean = (value: string | null | undefined) => (value == null ? null : value.replaceAll("\u0000", "\uFFFD"));
  return {
    sender: clean(parsed.from?.value[0]?.address?.toLowerCase() ?? parsed.from?.text),
    subject: clean(parsed.subject),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : null,
  };
}

export interface Delivery extends Committed {
  recipient: string;
  itemId: number;
}

export interface DeliverResult {
  digest: string;
  size: number;
  delivered: Delivery[];
  refused: { recipient: string; error: MailvaultError }[];
}

export async function deliverMessage(store: Mailstore, input: DeliverInput): Promise<DeliverResult> {
  const recipients = [...new Set(input.recipients.map((r) => r.toLowerCase()))];
  const headers = await parseHeaders(input.bytes);
  const digest = sha256(input.bytes);
  const size = input.bytes.length;
  const receivedAt = input.receivedAt ?? new Date();
  const flags = (input.flags ?? []).reduce((bits, f) => bits | FLAG[f], 0);
  const folderId = input.folderId ?? INBOX;
  const refused: DeliverResult["refused"] = [];

  // Write-ahead of the metadata, and of the redo record that names it (synced before the commit):
  // a blob whose transaction aborts is merely unreferenced.
  await store.blobs.put(input.bytes, digest);

  const delivered = await inTransaction(store, async (client) => {
    const { rows } = await client.query<MailboxRow>("SELECT * FROM mailstore.mailbox WHERE email = ANY($1::text[]) ORDER BY id FOR UPDATE", [recipients]);
    const byEmail = new Map(rows.map((m) => [m.email, m]));
    for (const r of recipients) if (!byEmail.has(r)) refused.push({ recipient: r, error: new MailboxNotFoundError(r) });
    const results: Delivery[] = [];
    let carrierSeq: number | null = null;
    for (const mailbox of rows) {
      if (mailbox.quota_bytes > 0 && mailbox.size_bytes + size > mailbox.quota_bytes) {
        refused.push({ recipient: mailbox.email, error: new QuotaExceededError(mailbox.email, mailbox.size_bytes + size, mailbox.quota_bytes) });
        continue;
      }
      const tx = new MailboxTx(client, mailbox);
      await tx.folder(folderId);
      const itemId = tx.allocateItemId();
      const date = headers.date ?? receivedAt;
      await client.query(
        prepared(
          `INSERT INTO ${tx.items} (mailbox_id, id, type, folder_id, date, size, blob_digest, flags, sender, subject, metadata, change_number)
           VALUES ($1, $2, 'message', $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [mailbox.id, itemId, folderId, date, size, digest, flags, headers.sender, headers.subject, { receivedAt: receivedAt.toISOString() }, tx.changeNumber],
        ),
      );
      tx.sizeDelta += size;
      const payload = {
        itemId,
        folderId,
        digest,
        size,
        date: date.toISOString(),
        receivedAt: receivedAt.toISOString(),
        sender: headers.sender,
        subject: headers.subject,
        flags,
        recipient: mailbox.email,
        ...(carrierSeq === null ? {} : { blobSeq: carrierSeq }),
      };
      const committed = await commitChange(store, tx, "DeliverMessage", payload);
      carrierSeq ??= committed.seq;
      results.push({ ...committed, recipient: mailbox.email, itemId });
    }
    return results;
  });
  return { digest, size, delivered, refused };
}
