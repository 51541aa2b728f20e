/**
 * One message of a mail source (live, copy or backup) as a person reads it: headers, text, HTML
 * and attachments. HTML is sanitised here (no script, no handler, no remote image or frame, no
 * style that could fetch) and is served with a CSP that forbids every load but inline data:
 * images, inside a sandboxed frame: three locks, each enough on its own.
 */
import type { AddressObject } from "mailparser";
import { MailvaultError } from "../errors.ts";
import { mailReader } from "../mail-libraries.ts";
import { flagsToNames, type ItemRow } from "../mailstore/items.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { folderPaths } from "../restore/export-mailbox.ts";
import type { MailSource } from "./views.ts";

export interface MessageDetail {
  id: number;
  folder: string;
  subject: string | null;
  from: string | null;
  to: string;
  cc: string;
  date: string;
  size: number;
  flags: string[];
  tags: string[];
  /** Every header line, in order, as sent. */
  headers: { name: string; value: string }[];
  text: string;
  hasHtml: boolean;
  /**
   * The sanitised HTML as a whole document with its own CSP (a meta tag): what the console puts
   * in a sandboxed frame's srcdoc. Null for a text-only message.
   */
  html: string | null;
  /** Remote images, frames and the like the sanitiser removed from the HTML. */
  remoteBlocked: number;
  attachments: { index: number; filename: string; contentType: string; size: number }[];
  source: { kind: string; description: string };
}

export class ItemNotFoundError extends MailvaultError {
  constructor(email: string, description: string, itemId: number) {
    super("not_found", "item_not_found", `${email} has no message ${itemId} ${description === "live mailbox" ? "" : description}`.trim());
  }
}

/** A message row of the source's mailbox, with its folder's path and tag names. */
export async function messageRow(source: MailSource, itemId: number): Promise<{ row: ItemRow; folder: string; tags: string[] }> {
  const { rows: boxes } = await source.store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [source.mailboxAccountId]);
  const box = boxes[0];
  if (!box || !Number.isSafeInteger(itemId)) throw new ItemNotFoundError(source.account.email, source.description, itemId);
  const items = `${groupSchema(box.group_id)}.item`;
  const { rows } = await source.store.pool.query<ItemRow>(`SELECT * FROM ${items} WHERE mailbox_id = $1 AND id = $2 AND type = 'message'`, [box.id, itemId]);
  if (!rows[0]) throw new ItemNotFoundError(source.account.email, source.description, itemId);
  const { rows: named } = await source.store.pool.query<Pick<ItemRow, "id" | "type" | "parent_id" | "name">>(
    `SELECT id, type, parent_id, name FROM ${items} WHERE mailbox_id = $1 AND type IN ('folder', 'tag')`,
    [box.id],
  );
  const tagNames = new Map(named.filter((t) => t.type === "tag").map((t) => [t.id, t.name ?? ""]));
  return { row: rows[0], folder: folderPaths(named).get(rows[0].folder_id!) ?? "", tags: rows[0].tags.map((t) => tagNames.get(t) ?? "").filter(Boolean) };
}

export async function messageBytes(source: MailSource, row: ItemRow): Promise<Buffer> {
  return source.readBlob(row.blob_digest!).catch((error: Error) => {
    throw new MailvaultError("unavailable", "body_unavailable", `the body of message ${row.id} could not be read: ${error.message}`);
  });
}

const addresses = (value: AddressObject | AddressObject[] | undefined) => (value ? (Array.isArray(value) ? value.map((v) => v.text).join(", ") : value.text) : "");

/** The HTML with nothing that runs or loads: what the message frame shows, and how much was removed. */
async function sanitizeMessageHtml(html: string): Promise<{ html: string; remoteBlocked: number }> {
  const { sanitizeHtml } = await mailReader();
  let remoteBlocked = 0;
  const clean = sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, "img", "font", "center"],
    allowedAttributes: {
      a: ["href", "title", "rel", "target"],
      img: ["src", "alt", "width", "height", "title"],
      td: ["colspan", "rowspan", "align", "valign"],
      th: ["colspan", "rowspan", "align", "valign"],
      table: ["width", "border", "cellpadding", "cellspacing"],
      font: ["color"],
      "*": ["dir", "lang"],
    },
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: { img: ["data"] },
    transformTags: {
      img: (tagName, attribs) => {
        if (!/^data:image\//i.test(attribs.src ?? "")) {
          remoteBlocked++;
          return { tagName: "span", attribs: { title: "remote image not loaded" }, text: `[image${attribs.alt ? `: ${attribs.alt}` : ""}]` };
        }
        return { tagName, attribs };
      },
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: "noopener noreferrer nofollow", target: "_blank" } }),
    },
    // Frames, objects and stylesheets are dropped (not allowed tags); count the ones that would have loaded something.
    onOpenTag: (name, attribs) => {
      if (["iframe", "frame", "object", "embed", "link", "video", "audio", "source"].includes(name) && (attribs.src || attribs.href || attribs.data)) remoteBlocked++;
    },
  });
  return { html: clean, remoteBlocked };
}

/** The CSP the sanitised HTML is served with: nothing loads but inline images, nothing runs. */
export const MESSAGE_HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";
/** The same, as a document can carry it itself (a meta tag cannot hold frame-ancestors or sandbox: the frame's sandbox attribute does that). */
const META_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** A sanitised body as a whole document, with its CSP. */
function htmlDocument(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${META_CSP}"><style>body{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#0f172a;word-wrap:break-word}img{max-width:100%}pre{white-space:pre-wrap}</style></head><body>${body}</body></html>`;
}

export async function readMessage(source: MailSource, itemId: number): Promise<MessageDetail> {
  const { row, folder, tags } = await messageRow(source, itemId);
  const bytes = await messageBytes(source, row);
  const { simpleParser } = await mailReader();
  const parsed = await simpleParser(bytes, { skipImageLinks: true, skipTextLinks: true });
  const headers = parsed.headerLines.map((h) => {
    const colon = h.line.indexOf(":");
    return { name: h.line.slice(0, colon).trim(), value: h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, " ").trim() };
  });
  const html = parsed.html ? await sanitizeMessageHtml(parsed.html) : null;
  return {
    id: row.id,
    folder,
    subject: row.subject,
    from: parsed.from?.text ?? row.sender,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    date: row.date.toISOString(),
    size: row.size,
    flags: flagsToNames(row.flags),
    tags,
    headers,
    text: parsed.text ?? "",
    hasHtml: Boolean(html),
    html: html ? htmlDocument(html.html) : null,
    remoteBlocked: html?.remoteBlocked ?? 0,
    attachments: parsed.attachments.map((a, index) => ({ index, filename: a.filename ?? `attachment-${index + 1}`, contentType: a.contentType, size: a.size })),
    source: { kind: source.kind, description: source.description },
  };
}

export async function messageHtml(source: MailSource, itemId: number): Promise<string> {
  const { row } = await messageRow(source, itemId);
  const { simpleParser, sanitizeHtml } = await mailReader();
  const parsed = await simpleParser(await messageBytes(source, row), { skipImageLinks: true, skipTextLinks: true });
  return htmlDocument(parsed.html ? (await sanitizeMessageHtml(parsed.html)).html : `<pre>${sanitizeHtml(parsed.text ?? "", { allowedTags: [] })}</pre>`);
}

export async function messageAttachment(source: MailSource, itemId: number, index: number): Promise<{ filename: string; contentType: string; content: Buffer }> {
  const { row } = await messageRow(source, itemId);
  const { simpleParser } = await mailReader();
  const parsed = await simpleParser(await messageBytes(source, row));
  const found = Number.isSafeInteger(index) ? parsed.attachments[index] : undefined;
  if (!found) throw new MailvaultError("not_found", "attachment_not_found", `message ${itemId} has no attachment ${index + 1}`);
  return { filename: found.filename ?? `attachment-${index + 1}`, contentType: found.contentType || "application/octet-stream", content: found.content };
}

/** A file name for a message: its subject, made safe, and its id. */
export function emlName(row: Pick<ItemRow, "id" | "subject">): string {
  const base = (row.subject ?? "message").replace(/[^\p{L}\p{N} ._-]+/gu, "_").trim().slice(0, 80) || "message";
  return `${base}-${row.id}.eml`;
}
