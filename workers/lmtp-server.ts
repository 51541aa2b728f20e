/**
 * The LMTP listener of one mailbox server: real mail software (Postfix, Python's smtplib.LMTP)
 * hands messages over here. RCPT answers 550 for an address with no mailbox on this server and
 * 452 when the mailstore cannot be reached; after DATA each recipient gets its own answer: 250
 * delivered, 550 unknown, 552 over quota, 452 store unavailable, and a generic 451 for anything
 * else, whose detail only the log sees. Delivery itself is the domain's `deliverMessage`, the
 * same operation the API and the traffic generator use.
 *
 * RFC 2033 wants one reply after DATA for every RCPT that was accepted. smtp-server keeps one
 * envelope entry per distinct address, so a repeated RCPT (or the same address in another case)
 * would get no reply of its own and the client would wait, give up and send the mail again. The
 * accepted RCPTs are therefore counted here, the message is delivered once per mailbox, and each
 * RCPT gets its mailbox's answer. A message over the size limit (announced with SIZE in the LHLO
 * reply) is not kept in memory: once the limit is passed the rest is read and dropped, and every
 * RCPT gets 552.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { MailvaultError } from "../server/errors.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import type { Mailstore } from "../server/mailstore/mailstore.ts";

export const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

type ReplyError = Error & { responseCode: number };

function reply(code: number, message: string): ReplyError {
  return Object.assign(new Error(message), { responseCode: code });
}

const GENERIC_FAILURE = "4.3.0 temporary failure, try again later";

/**
 * The reply for a recipient that was not delivered to. What a sender can act on keeps its clear
 * text (no such mailbox, over quota, under maintenance, store unavailable); anything else (an
 * SQL error, a broken mailbox) is a generic 451, because the reply travels back to whoever sent
 * the mail: its detail goes to the worker's log only.
 */
function answerFor(error: unknown, onUnexpected?: (error: unknown) => void): ReplyError {
  const e = error as Partial<MailvaultError>;
  if (e.code === "mailbox_not_found") return reply(550, "5.1.1 no such mailbox here");
  if (e.code === "quota_exceeded") return reply(552, "5.2.2 mailbox is over quota");
  if (typeof e.code === "string" && e.code.endsWith("_maintenance")) return reply(451, "4.2.1 mailbox is under maintenance, try again later");
  if (e.kind === "unavailable") return reply(452, "4.3.0 mail store unavailable, try again later");
  onUnexpected?.(error);
  return reply(451, GENERIC_FAILURE);
}

/** The detail of a failure for the log, saying which delivery it was. */
function deliveryError(recipients: string[], error: unknown): Error {
  return new Error(`LMTP delivery to ${recipients.join(", ")} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
}

/** The message, or null once it passes `limit` bytes (the rest is read and dropped). */
async function readWithin(stream: SMTPServerDataStream, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
    else chunks.length = 0;
  }
  return size <= limit && !stream.sizeExceeded ? Buffer.concat(chunks) : null;
}

export interface LmtpListener {
  port: number;
  close(): Promise<void>;
}

export async function startLmtpListener(options: {
  store: Mailstore;
  port: number;
  host?: string;
  onError?: (error: Error) => void;
  /** The largest message accepted, in bytes (MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
}): Promise<LmtpListener> {
  const { store } = options;
  const limit = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  /** The RCPTs accepted in each transaction, repeats included, in order (keyed by its envelope). */
  const accepted = new WeakMap<object, string[]>();
  const server = new SMTPServer({
    lmtp: true,
    name: `${store.server}.lmtp`,
    banner: "Mailvault LMTP",
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    size: limit,
    // Oversized messages are answered here, once per accepted RCPT (smtp-server would answer once per distinct address).
    rejectOversized: false,
    logger: false,
    onRcptTo(address, session, callback) {
      store.pool
        .query("SELECT 1 FROM mailstore.mailbox WHERE email = $1", [address.address.toLowerCase()])
        .then(({ rowCount }) => {
          if (!rowCount) return callback(reply(550, `5.1.1 <${address.address}>: no such mailbox here`));
          const list = accepted.get(session.envelope) ?? [];
          list.push(address.address.toLowerCase());
          accepted.set(session.envelope, list);
          callback();
        })
        .catch((error: Error) => {
          options.onError?.(deliveryError([address.address], error));
          callback(reply(452, "4.3.0 mail store unavailable, try again later"));
        });
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const rcpts = accepted.get(session.envelope) ?? session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const recipients = [...new Set(rcpts)];
      const everyone = (answer: ReplyError) => callback(null, rcpts.map(() => answer));
      readWithin(stream, limit)
        .then(async (bytes) => {
          if (!bytes) return everyone(reply(552, `5.3.4 message exceeds the fixed maximum size of ${limit} bytes`));
          const result = await deliverMessage(store, { recipients, bytes });
          const delivered = new Set(result.delivered.map((d) => d.recipient));
          const refused = new Map(result.refused.map((r) => [r.recipient, r.error]));
          const answers = new Map(
            recipients.map((r) => [r, delivered.has(r) ? `2.1.5 <${r}> delivered` : answerFor(refused.get(r) ?? new Error("not delivered"), (error) => options.onError?.(deliveryError([r], error)))]),
          );
          callback(null, rcpts.map((r) => answers.get(r)!));
        })
        .catch((error: Error) => {
          options.onError?.(deliveryError(recipients, error));
          everyone(answerFor(error));
        });
    },
  });
  server.on("error", (error) => options.onError?.(error));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
