import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { InvalidInputError } from "../../server/errors.ts";
import { mboxStream, selectForDownload, zipStream } from "../../server/explore/download.ts";
import { listSourceMessages, listMessagesInput, TO_SCAN } from "../../server/explore/list-messages.ts";
import { messageBytes, messageRow, readMessage } from "../../server/explore/read-message.ts";
import { restoreItems } from "../../server/explore/restore-items.ts";
import { accountOnServer, readySource } from "../../server/explore/views.ts";
import { printJson, table } from "../output.ts";

interface PointOptions {
  server: string;
  account: string;
  label?: string;
  at?: string;
}

interface SearchOptions extends PointOptions {
  folder?: string;
  q?: string;
  subject?: string;
  from?: string;
  to?: string;
  after?: string;
  before?: string;
  page?: string;
  show?: string;
  save?: string;
  ids?: string;
  json?: boolean;
}

const point = (o: PointOptions) => ({ label: o.label, at: o.at });

function addPointOptions(command: Command): Command {
  return command
    .requiredOption("-s, --server <name>", "mailbox server")
    .requiredOption("-a, --account <name>", "the account, by any name it has had")
    .option("--label <session>", "as this backup session holds it (also -lb)")
    .option("--at <time>", "as it was at this time (UTC unless a zone is given)");
}

export function registerSearch(program: Command): void {
  addPointOptions(program.command("search"))
    .description("search an account's mail, live or inside a backup (-lb) or at a point in time (--at), without restoring it; open or save what you find")
    .option("--folder <path>", "only this folder, e.g. /Inbox/Projects")
    .option("-q, --q <text>", "subject or sender contains")
    .option("--subject <text>", "subject contains")
    .option("--from <text>", "sender contains")
    .option("--to <text>", "a To or Cc recipient contains")
    .option("--after <time>", "received at or after")
    .option("--before <time>", "received before")
    .option("--page <n>", "page of 50 (default 1)")
    .option("--show <id>", "print this message: headers, text and attachments")
    .option("--save <file>", "save to a file instead of listing: .eml (one message: --ids), .mbox or .zip (the folder, --ids, or the whole mailbox)")
    .option("--ids <ids>", "message ids for --save, comma-separated")
    .option("--json", "print JSON")
    .action(async (opts: SearchOptions) => {
      const accountId = await accountOnServer(opts.server, opts.account);
      const source = await readySource(accountId, point(opts), { prepareHere: true });
      if (opts.show) {
        const message = await readMessage(source, Number(opts.show));
        if (opts.json) return printJson(message);
        for (const h of message.headers.filter((h) => /^(from|to|cc|date|subject|message-id)$/i.test(h.name))) console.log(`${h.name}: ${h.value}`);
        console.log(`Folder: ${message.folder}${message.flags.length ? `  Flags: ${message.flags.join(", ")}` : ""}${message.tags.length ? `  Tags: ${message.tags.join(", ")}` : ""}`);
        console.log(`\n${message.text.trim() || (message.hasHtml ? "(HTML only: open it in the console)" : "(no text)")}\n`);
        for (const a of message.attachments) console.log(`attachment ${a.index}: ${a.filename} (${a.contentType}, ${a.size} bytes)`);
        return;
      }
      if (opts.save) {
        const format = opts.save.match(/\.(eml|mbox|zip)$/i)?.[1]?.toLowerCase();
        if (!format) throw new InvalidInputError(`--save takes a file ending in .eml, .mbox or .zip, not ${opts.save}`);
        const ids = opts.ids ? opts.ids.split(",").map((id) => Number(id.trim())) : undefined;
        if (format === "eml") {
          if (ids?.length !== 1) throw new InvalidInputError("--save x.eml saves one message: give its id with --ids");
          const { row } = await messageRow(source, ids[0]!);
          await writeFile(opts.save, await messageBytes(source, row), { flag: "wx" });
          return console.log(`saved message ${row.id} "${row.subject ?? ""}" to ${opts.save}`);
        }
        const selection = await selectForDownload(source, { format: format as "mbox" | "zip", folder: opts.folder, ids });
        await pipeline(format === "mbox" ? mboxStream(source, selection) : zipStream(source, selection), createWriteStream(opts.save, { flags: "wx" }));
        return console.log(`saved ${selection.rows.length} message(s) ${source.description} to ${opts.save}`);
      }
      const input = listMessagesInput.parse({ folder: opts.folder, q: opts.q, subject: opts.subject, from: opts.from, to: opts.to, after: opts.after, before: opts.before, page: opts.page });
      const list = await listSourceMessages(source, input);
      if (opts.json) return printJson(list);
      console.log(`${list.account.email} ${list.source.description}: ${list.total} message(s)${list.scanLimited ? ` (recipients read in the newest ${TO_SCAN} only: narrow the search by folder or date)` : ""}`);
      if (!list.messages.length) return;
      console.log(table(["ID", "DATE (UTC)", "FROM", "FOLDER", "SUBJECT"], list.messages.map((m) => [String(m.id), m.date.slice(0, 16).replace("T", " "), m.from ?? "", m.folder, m.subject ?? ""])));
      if (list.total > list.page * list.pageSize) console.log(`page ${list.page} of ${Math.ceil(list.total / list.pageSize)}: --page ${list.page + 1} for more`);
    });

  addPointOptions(program.command("restoreitems"))
    .description("restore chosen messages or folders of a backup into the live account: into /Recovered <date> (default) or back where they were")
    .option("--item <ids...>", "message or contact ids, as search shows them")
    .option("--folder <paths...>", "folders with their subfolders, e.g. /Inbox/Projects")
    .option("--into <where>", "recovered (a new folder, default) or original (back where each was)")
    .option("--recovered-folder <path>", "the folder for --into recovered (default /Recovered <today>)")
    .option("--replace", "replace what the account already has at the same place (default: skip it)")
    .option("--json", "print JSON")
    .action(async (opts: PointOptions & { item?: string[]; folder?: string[]; into?: string; recoveredFolder?: string; replace?: boolean; json?: boolean }) => {
      if (opts.into !== undefined && !["recovered", "original"].includes(opts.into)) throw new InvalidInputError(`--into is recovered or original, not ${opts.into}`);
      const accountId = await accountOnServer(opts.server, opts.account);
      const result = await restoreItems(
        {
          accountId,
          ...point(opts),
          itemIds: opts.item?.map(Number),
          folders: opts.folder,
          into: opts.into as "recovered" | "original" | undefined,
          folder: opts.recoveredFolder,
          onConflict: opts.replace ? "replace" : "skip",
        },
        { waitMs: 24 * 3_600_000 },
      );
      if (opts.json) return printJson(result);
      if ("state" in result) return console.log(`running as job ${result.jobId}`);
      console.log(`restored ${result.copied} item(s) of ${result.account} ${result.from} into ${result.into}; skipped ${result.skipped} already there, replaced ${result.replaced}`);
      for (const p of result.problems) console.log(`  problem: ${p}`);
      if (result.problems.length) process.exitCode = 1;
    });
}
