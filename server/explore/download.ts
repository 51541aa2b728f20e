/**
 * Messages of a mail source as files: one message as `.eml`, a folder or a selection as `.mbox`
 * (mboxrd: `From ` lines quoted) or as a `.zip` of `.eml` files in their folders. Both are
 * streamed one message at a time, so a folder of any size never sits in memory.
 */
import { Readable } from "node:stream";
import yazl from "yazl";
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { MailboxNotFoundError } from "../mailstore/errors.ts";
import type { ItemRow } from "../mailstore/items.ts";
import { groupSchema } from "../mailstore/schema.ts";
import { folderPaths } from "../restore/export-mailbox.ts";
import { emlName } from "./read-message.ts";
import type { MailSource } from "./views.ts";

export const downloadInput = z.object({
  format: z.enum(["mbox", "zip"], { error: "format is mbox or zip" }),
  /** A folder path (its subfolders too); with neither this nor ids, the whole mailbox. */
  folder: z.string().trim().startsWith("/", "folder paths start with /, e.g. /Inbox/Projects").optional(),
  /** Item ids, comma-separated in a query string. */
  ids: z
    .union([z.array(z.number().int().positive()), z.string().regex(/^\d+(,\d+)*$/, "ids is a comma-separated list of message ids").transform((s) => s.split(",").map(Number))])
    .optional(),
});

export interface DownloadSelection {
  rows: (Pick<ItemRow, "id" | "subject" | "sender" | "date" | "blob_digest"> & { path: string })[];
  name: string;
}

/** The messages a download takes, oldest first within each folder; unknown folders or ids are refused. */
export async function selectForDownload(source: MailSource, input: z.output<typeof downloadInput>): Promise<DownloadSelection> {
  const { rows: boxes } = await source.store.pool.query<{ id: number; group_id: number }>("SELECT id, group_id FROM mailstore.mailbox WHERE account_id = $1", [source.mailboxAccountId]);
  const box = boxes[0];
  if (!box) throw new MailboxNotFoundError(`${source.account.email} (${source.description}): ask again to read it anew`);
  const items = `${groupSchema(box.group_id)}.item`;
  const { rows: folders } = await source.store.pool.query<Pick<ItemRow, "id" | "type" | "parent_id" | "name">>(`SELECT id, type, parent_id, name FROM ${items} WHERE mailbox_id = $1 AND type = 'folder'`, [box.id]);
  const paths = folderPaths(folders);
  const folder = input.folder?.replace(/\/+$/, "");
  const inFolder = folder ? [...paths].filter(([, p]) => p.toLowerCase() === folder.toLowerCase() || p.toLowerCase().startsWith(`${folder.toLowerCase()}/`)).map(([id]) => id) : null;
  if (folder && !inFolder!.length) throw new InvalidInputError(`${source.account.email} has no folder ${input.folder} ${source.kind === "live" ? "" : source.description}`.trim());
  const { rows } = await source.store.pool.query<Pick<ItemRow, "id" | "subject" | "sender" | "date" | "blob_digest" | "folder_id">>(
    `SELECT id, subject, sender, date, blob_digest, folder_id FROM ${items}
      WHERE mailbox_id = $1 AND type = 'message' AND ($2::bigint[] IS NULL OR folder_id = ANY($2)) AND ($3::bigint[] IS NULL OR id = ANY($3))
      ORDER BY folder_id, date, id`,
    [box.id, inFolder, input.ids ?? null],
  );
  const missing = (input.ids ?? []).filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) throw new InvalidInputError(`${source.account.email} has no message ${missing.slice(0, 10).join(", ")}`);
  if (!rows.length) throw new InvalidInputError("there is no message to download here");
  const stamp = source.label ?? (source.at ? source.at.slice(0, 19).replace(/[-:]/g, "") : "live");
  const what = folder ? folder.slice(1).replace(/\//g, "-") : input.ids ? `${rows.length}-messages` : "mailbox";
  return { rows: rows.map((r) => ({ ...r, path: paths.get(r.folder_id!) ?? "" })), name: `${source.account.email}-${what}-${stamp}.${input.format}`.replace(/[^\w@.+-]+/g, "_") };
}

const ASCTIME = new Intl.DateTimeFormat("en-US", { weekday: "short", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", year: "numeric", hour12: false, timeZone: "UTC" });

/** `Thu Dec 03 14:52:10 2026`: the date of an mbox `From ` line. */
function asctime(date: Date): string {
  const p = Object.fromEntries(ASCTIME.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.month} ${p.day} ${p.hour}:${p.minute}:${p.second} ${p.year}`;
}

/** One message as an mboxrd entry: the `From ` line, the message with LF line ends and `From ` lines quoted, a blank line. */
export function mboxEntry(sender: string | null, date: Date, bytes: Buffer): Buffer {
  const body = bytes
    .toString("latin1")
    .replace(/\r\n/g, "\n")
    .replace(/^(>*From )/gm, ">$1");
  return Buffer.from(`From ${sender?.replace(/\s+/g, "") || "MAILER-DAEMON"} ${asctime(date)}\n${body}${body.endsWith("\n") ? "" : "\n"}\n`, "latin1");
}

export function mboxStream(source: MailSource, selection: DownloadSelection): Readable {
  return Readable.from(
    (async function* () {
      for (const row of selection.rows) yield mboxEntry(row.sender, row.date, await source.readBlob(row.blob_digest!));
    })(),
  );
}

/** A path segment safe in a zip: no `.` or `..`, no slash or backslash, no control characters. */
const zipSegment = (name: string) => {
  const clean = name.replace(/[\\/\u0000-\u001f]/g, "_").trim();
  return clean === "" || clean === "." || clean === ".." ? "_" : clean;
};

/** The earliest time a zip entry can carry (DOS time starts in 1980). */
const ZIP_EPOCH = Date.UTC(1980, 0, 1, 12);

export function zipStream(source: MailSource, selection: DownloadSelection): Readable {
  const zip = new yazl.ZipFile();
  const out = zip.outputStream as unknown as Readable;
  // A body that cannot be read ends the download with an error, rather than leaving it hanging.
  zip.on("error", (error: Error) => out.destroy(error));
  const used = new Set<string>();
  for (const row of selection.rows) {
    const folder = row.path.split("/").filter(Boolean).map(zipSegment).join("/") || "Mailbox";
    let name = `${folder}/${emlName(row)}`;
    for (let n = 2; used.has(name); n++) name = name.replace(/(-\d+)?\.eml$/, `-${n}.eml`);
    used.add(name);
    // Read when the zip reaches this entry, not before: one body in memory at a time.
    zip.addReadStreamLazy(name, { mtime: new Date(Math.max(row.date.getTime(), ZIP_EPOCH)), compress: true }, (done) => {
      source.readBlob(row.blob_digest!).then(
        (bytes) => done(null, Readable.from([bytes])),
        (error: Error) => done(error, undefined as never),
      );
    });
  }
  zip.end();
  return out;
}
