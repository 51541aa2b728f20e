/**
 * Zimbra's zmredodump for one server, as the API and CLI call it: the records of the archive and
 * the current log that match the filters, a page at a time (keyset on the sequence number).
 * `account` accepts any name the account ever had; every account that held the name is included.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { accountsByAnyName, type NamedAccount } from "../directory/resolve-account.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { parseTime } from "../time/parse-time.ts";
import { describeRecord, OP_NAMES, opName } from "./describe-record.ts";
import { readRedo, type RedoFilter } from "./read-redo.ts";
import { wholeNumber } from "../validation/whole-number.ts";

export const REDO_OPS = [
  "CreateMailbox", "DeliverMessage", "CreateFolder", "RenameFolder", "MoveItems", "DeleteItems", "SetFlags",
  "TagItems", "EmptyFolder", "PurgeOldMessages", "CreateContact", "ModifyContact", "RenameAccount", "DeleteMailbox",
] as const;

const seq = (what: string) => wholeNumber(what);

export const redoQueryInput = z
  .object({
    account: z.string().trim().min(1).optional(),
    mailbox: wholeNumber("mailbox").optional(),
    op: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (!v) return undefined;
        const ops = v.split(",").map((o) => o.trim()).filter(Boolean);
        const unknown = ops.filter((o) => !(REDO_OPS as readonly string[]).includes(o));
        if (unknown.length) ctx.addIssue({ code: "custom", message: `unknown operation ${unknown.join(", ")}; known: ${REDO_OPS.join(", ")}` });
        return ops;
      }),
    from: z.string().optional(),
    to: z.string().optional(),
    fromSeq: seq("fromSeq").optional(),
    toSeq: seq("toSeq").optional(),
    afterSeq: wholeNumber("afterSeq", { min: 0 }).optional(),
    limit: wholeNumber("limit", { max: 1000 }).default(100),
  })
  .refine((v) => v.fromSeq === undefined || v.toSeq === undefined || v.fromSeq <= v.toSeq, "fromSeq is after toSeq");

export type RedoQueryInput = z.input<typeof redoQueryInput>;

export interface RedoEntry {
  seq: number;
  at: string;
  mailboxId: number;
  accountId: string;
  changeNumber: number;
  op: string;
  /** The operation in words ("Items deleted"). */
  opName: string;
  summary: string;
  payload: Record<string, unknown>;
  blobBytes: number;
}

export interface RedoPage {
  records: RedoEntry[];
  /** Pass as afterSeq for the next page; null when there is none. */
  nextAfterSeq: number | null;
  accounts: NamedAccount[];
  /** Every operation a record can have, with its name in words: what the operation filter offers. */
  operations: { op: string; name: string }[];
}

export async function toFilter(input: z.output<typeof redoQueryInput>): Promise<{ filter: RedoFilter; accounts: NamedAccount[] }> {
  const fromTime = input.from ? parseTime(input.from, "from time") : undefined;
  const toTime = input.to ? parseTime(input.to, "to time") : undefined;
  if (fromTime && toTime && fromTime > toTime) throw new InvalidInputError("the from time is after the to time");
  const accounts = input.account ? await accountsByAnyName(input.account) : [];
  const fromSeq = Math.max(input.fromSeq ?? 0, (input.afterSeq ?? 0) + 1) || undefined;
  return {
    accounts,
    filter: {
      accountIds: input.account ? accounts.map((a) => a.id) : undefined,
      mailboxId: input.mailbox,
      ops: input.op,
      fromTime,
      toTime,
      fromSeq,
      toSeq: input.toSeq,
    },
  };
}

export async function queryRedo(serverName: string, raw: RedoQueryInput): Promise<RedoPage> {
  const input = redoQueryInput.parse(raw);
  const store = await openMailstore(serverName);
  const { filter, accounts } = await toFilter(input);
  const records: RedoEntry[] = [];
  let more = false;
  for await (const r of readRedo(store, filter)) {
    if (records.length === input.limit) {
      more = true;
      break;
    }
    records.push({
      seq: r.seq,
      at: r.at,
      mailboxId: r.mailboxId,
      accountId: r.accountId,
      changeNumber: r.changeNumber,
      op: r.op,
      opName: opName(r.op),
      summary: describeRecord(r),
      payload: r.payload,
      blobBytes: r.op === "DeliverMessage" && !r.payload.blobSeq ? Number(r.payload.size) : 0,
    });
  }
  return { records, nextAfterSeq: more ? records.at(-1)!.seq : null, accounts, operations: Object.entries(OP_NAMES).map(([op, name]) => ({ op, name })) };
}
