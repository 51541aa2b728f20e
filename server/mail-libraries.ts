/**
 * The mail libraries, loaded on first use (on-first-use.ts): most processes (the CLI's commands,
 * a worker that only backs up) never parse a message.
 */
import { onFirstUse } from "./on-first-use.ts";

/** The MIME parser (deliveries' headers, messages read from backups). */
export const mailparser = onFirstUse(() => import("mailparser"));
/** The MIME parser and the HTML sanitiser (messages shown from backups). */
export const mailReader = onFirstUse(async () => {
  const [{ simpleParser }, { default: sanitizeHtml }] = await Promise.all([mailparser(), import("sanitize-html")]);
  return { simpleParser, sanitizeHtml };
});
