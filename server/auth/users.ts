/** Console users: creation, listing, password changes, sign-in and session tokens. */
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db/console-db.ts";
import { beginAudit, finishAudit } from "../audit/audit.ts";
import { InvalidInputError, MailvaultError, ServiceUnavailableError } from "../errors.ts";
import { hashPassword, needsRehash, verifyPassword } from "./passwords.ts";
import { SESSION_DAYS } from "./cookie.ts";
import type { Role } from "./permissions.ts";

export { SESSION_COOKIE as COOKIE } from "./cookie.ts";

export const newUserInput = z.object({
  email: z.email("a user's name is an email address").transform((e) => e.toLowerCase()),
  name: z.string().max(200).refine((n) => !n.includes("\u0000"), "a name cannot hold a NUL character").default(""),
  role: z.enum(["admin", "helpdesk"], "role is admin or helpdesk"),
  password: z.string().min(10, "a password has at least 10 characters").max(200),
});

export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: Role;
}

export class AuthError extends MailvaultError {
  constructor(message: string) {
    super("forbidden", "not_signed_in", message);
  }
}

export async function createUser(raw: z.input<typeof newUserInput>): Promise<SessionUser> {
  const input = newUserInput.parse(raw);
  if (await prisma().user.findUnique({ where: { email: input.email } })) throw new MailvaultError("conflict", "user_exists", `a user ${input.email} already exists`);
  const user = await prisma().user.create({ data: { email: input.email, name: input.name, role: input.role, passwordHash: await hashPassword(input.password) } });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export async function listUsers() {
  const users = await prisma().user.findMany({ orderBy: { email: "asc" } });
  return users.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, createdAt: u.createdAt.toISOString(), disabled: u.disabledAt !== null }));
}

/**
 * Sets a user's password and ends their sessions, but for `keepToken`'s (the caller's own, when
 * they change their own password): whoever knew the old one is signed out.
 */
export async function setPassword(email: string, password: string, keepToken?: string): Promise<void> {
  if (typeof password !== "string" || password.length < 10) throw new InvalidInputError("a password has at least 10 characters");
  if (password.length > 1024) throw new InvalidInputError("a password has at most 1024 characters");
  const user = await prisma().user.findUnique({ where: { email: email.toLowerCase() } });
  if (!user) throw new MailvaultError("not_found", "user_not_found", `no user ${email}`);
  await prisma().user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password) } });
  await prisma().userSession.deleteMany({ where: { userId: user.id, ...(keepToken ? { tokenHash: { not: hashToken(keepToken) } } : {}) } });
}

export const userPatchInput = z
  .object({
    password: z.string().optional(),
    /** A JSON boolean: "false" is not false. */
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((p) => p.password !== undefined || p.disabled !== undefined, "give a password or disabled (true or false)");

/** PATCH of a user: a new password, or disabled true/false; anything else is refused. */
export async function updateUser(email: string, raw: unknown, keepToken?: string): Promise<{ email: string; updated: true }> {
  const patch = userPatchInput.parse(raw);
  if (patch.password !== undefined) await setPassword(email, patch.password, keepToken);
  if (patch.disabled !== undefined) await setDisabled(email, patch.disabled);
  return { email, updated: true };
}

export async function setDisabled(email: string, disabled: boolean): Promise<void> {
  const user = await prisma().user.findUnique({ where: { email: email.toLowerCase() } });
  if (!user) throw new MailvaultError("not_found", "user_not_found", `no user ${email}`);
  await prisma().user.update({ where: { id: user.id }, data: { disabledAt: disabled ? new Date() : null } });
  if (disabled) await prisma().userSession.deleteMany({ where: { userId: user.id } });
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Failed sign-ins for one email from one client address, within the window and since that
 * address's last good sign-in, lock that email out *from that address* until they age out.
 *
 * Counted per email and address rather than per email, so that someone guessing from elsewhere
 * cannot lock the admin out: the admin's own address keeps its own count. This needs an address
 * the client cannot choose, which the console's server provides (scripts/console-server.ts);
 * guessing from many real addresses is slowed by the password hash's cost, not stopped.
 */
export const LOCKOUT = { failures: 10, minutes: 15 };

export class TooManyAttemptsError extends MailvaultError {
  constructor(email: string) {
    super("forbidden", "too_many_attempts", `too many failed sign-ins for ${email} from this address: try again in ${LOCKOUT.minutes} minutes`);
  }
}

/**
 * Counted from the audit log, which records every attempt: no second store to keep in step. An
 * attempt is recorded (pending) before its password is checked, and attempts still pending count
 * as failures: a burst of simultaneous guesses cannot all pass the count before any is refused.
 */
async function assertNotLockedOut(email: string, address: string, attempt?: bigint): Promise<void> {
  const since = new Date(Date.now() - LOCKOUT.minutes * 60_000);
  const attempts = { action: "auth.login", actor: email, address };
  const lastGood = await prisma().auditEntry.findFirst({ where: { ...attempts, outcome: "ok", at: { gte: since } }, orderBy: { at: "desc" }, select: { at: true } });
  const failures = await prisma().auditEntry.count({
    where: {
      ...attempts,
      at: { gt: lastGood?.at ?? since },
      OR: [{ outcome: "refused", status: 401 }, { outcome: "pending" }],
      ...(attempt !== undefined ? { NOT: { id: attempt } } : {}),
    },
  });
  if (failures >= LOCKOUT.failures) throw new TooManyAttemptsError(email);
}

let dummy: Promise<string> | null = null;
/** A hash of nothing anyone knows, made once per process with the current cost. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString("hex"));
  return dummy;
}

/**
 * Checks a password and opens a session; the token goes into an http-only cookie. `address` is
 * the client's and `attempt` this attempt's pending audit entry (see LOCKOUT). A hash made at an older cost is replaced now that the password is known.
 */
export async function signIn(
  email: string,
  password: string,
  { address = "", attempt }: { address?: string; attempt?: bigint } = {},
): Promise<{ token: string; user: SessionUser; expiresAt: Date }> {
  const name = email.trim().toLowerCase();
  await assertNotLockedOut(name, address, attempt);
  const user = await prisma().user.findUnique({ where: { email: name } });
  // The same hash work for an unknown email, so the answer's timing does not say which exist.
  const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  const ok = user && !user.disabledAt && matches;
  if (!ok) throw new AuthError("wrong email or password");
  // Only if the hash is still the one just checked: a password set meanwhile is not undone.
  if (needsRehash(user.passwordHash)) await prisma().user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash: await hashPassword(password) } });
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_DAYS * 86_400_000);
  await prisma().userSession.create({ data: { tokenHash: hashToken(token), userId: user.id, expiresAt } });
  // Expired sessions are purged as new ones begin: they open nothing, but need not pile up.
  await prisma().userSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return { token, user: { id: user.id, email: user.email, name: user.name, role: user.role }, expiresAt };
}

/**
 * A sign-in from the console, recorded: the attempt goes into the audit log (pending) before its
 * password is checked, which is what the lockout counts, and its outcome after. An attempt that
 * cannot be recorded is not made (503, as for any change).
 */
export async function signInRecorded(email: string, password: string, address: string): ReturnType<typeof signIn> {
  const actor = email.trim().toLowerCase();
  const attempt = await beginAudit({ actor, role: "", action: "auth.login", address }).catch((error: Error) => {
    throw new ServiceUnavailableError("audit", `sign-in attempts cannot be recorded just now (${error.message.split("\n")[0]}): try again later`);
  });
  try {
    const signedIn = await signIn(email, password, { address, attempt });
    await finishAudit(attempt, { outcome: "ok", status: 200, role: signedIn.user.role });
    return signedIn;
  } catch (error) {
    // Unknown user, wrong password or disabled: one entry, as one answer, so neither tells which.
    const outcome =
      error instanceof TooManyAttemptsError
        ? ({ outcome: "refused", status: 429, message: error.message } as const)
        : error instanceof AuthError
          ? ({ outcome: "refused", status: 401, message: "wrong email or password" } as const)
          : ({ outcome: "failed", status: 500, message: "sign-in failed" } as const);
    await finishAudit(attempt, outcome).catch(() => {});
    throw error;
  }
}

export async function userForToken(token: string | undefined): Promise<SessionUser | null> {
  if (!token) return null;
  const session = await prisma().userSession.findUnique({ where: { tokenHash: hashToken(token) }, include: { user: true } });
  if (!session || session.expiresAt < new Date() || session.user.disabledAt) return null;
  return { id: session.user.id, email: session.user.email, name: session.user.name, role: session.user.role };
}

export async function signOut(token: string | undefined): Promise<void> {
  if (token) await prisma().userSession.deleteMany({ where: { tokenHash: hashToken(token) } });
}

/**
 * The first start: when no user exists, an admin is created with MAILVAULT_ADMIN_PASSWORD or a
 * generated password that is returned (and printed once by `npm start`).
 */
export async function ensureFirstAdmin(options: { email: string; password?: string }): Promise<{ email: string; password: string | null } | null> {
  if ((await prisma().user.count()) > 0) return null;
  const password = options.password ?? randomBytes(12).toString("base64url");
  await createUser({ email: options.email, name: "Administrator", role: "admin", password });
  return { email: options.email, password: options.password ? null : password };
}
