/**
 * The LMTP listener of one mailbox server: real mail software (Postfix, Python's smtplib.LMTP)
 * hands messages over here. RCPT answers 550 for an address with no mailbox on this server and
 * 452 when the mailstore cannot be reached; after DATA each recipient gets its own answer: 250
 * delivered, 550 unknown, 552 over quota, 452 store unavailable. Delivery itself is the domain's
 * `deliverMessage`, the same operation the API and the traffic generator use.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { MailvaultError } from "../server/errors.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import type { Mailstore } from "../server/mailstore/mailstore.ts";

export const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

type ReplyError = Error & { responseCode: number };

function reply(code: number, message: string): ReplyError {
  return Object.assign(new Error(message), { responseCode: code });
}

function answerFor(error: unknown): ReplyError {
  const e = error as MailvaultError;
  if (e.code === "mailbox_not_found") return reply(550, "5.1.1 no such mailbox here");
  if (e.code === "quota_exceeded") return reply(552, "5.2.2 mailbox is over quota");
  if (e.kind === "unavailable") return reply(452, "4.3.0 mail store unavailable, try again later");
  return reply(451, `4.3.0 delivery failed: ${e.message ?? "internal error"}`);
}

async function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface LmtpListener {
  port: number;
  close(): Promise<void>;
}

export async function startLmtpListener(options: { store: Mailstore; port: number; host?: string; onError?: (error: Error) => void }): Promise<LmtpListener> {
  const { store } = options;
  const server = new SMTPServer({
    lmtp: true,
    name: `${store.server}.lmtp`,
    banner: "Mailvault LMTP",
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      store.pool
        .query("SELECT 1 FROM mailstore.mailbox WHERE email = $1", [address.address.toLowerCase()])
        .then(({ rowCount }) => callback(rowCount ? undefined : reply(550, `5.1.1 <${address.address}>: no such mailbox here`)))
        .catch(() => callback(reply(452, "4.3.0 mail store unavailable, try again later")));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      readAll(stream)
        .then(async (bytes) => {
          if (stream.sizeExceeded) return callback(reply(552, "5.3.4 message too big"));
          const result = await deliverMessage(store, { recipients, bytes });
          const delivered = new Set(result.delivered.map((d) => d.recipient));
          const refused = new Map(result.refused.map((r) => [r.recipient, r.error]));
          callback(
            null,
            recipients.map((r) => (delivered.has(r) ? `2.1.5 <${r}> delivered` : answerFor(refused.get(r) ?? new Error("not delivered")))),
          );
        })
        .catch((error: Error) => {
          options.onError?.(error);
          callback(answerFor(error));
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
