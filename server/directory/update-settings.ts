/**
 * Changes to a server's settings (server-settings.ts), under a row lock: only the fields a
 * change returns are written, the rest stay as stored (defaults are not written in), and the
 * whole is checked by the settings schema before it is. `servers set` takes a few by name.
 */
import { z } from "zod";
import { inConsoleTransaction } from "../db/console-db.ts";
import { InvalidInputError, ServerNotFoundError } from "../errors.ts";
import { expectEncrypted } from "../repository/open-backend.ts";
import { wholeNumber } from "../validation/whole-number.ts";
import { parseServerSettings, serverSettingsSchema, type ServerSettings } from "./server-settings.ts";

/** Changes settings of a server under a row lock; only the fields returned change (defaults are not written in). */
export async function updateSettings(serverName: string, change: (settings: ServerSettings, primary: string) => Partial<ServerSettings>): Promise<ServerSettings> {
  return inConsoleTransaction(async (db) => {
    const { rows } = await db.query<{ settings: unknown; backup_target: string }>("SELECT settings, backup_target FROM server WHERE name = $1 FOR UPDATE", [serverName]);
    if (!rows[0]) throw new ServerNotFoundError(serverName);
    const stored = (rows[0].settings ?? {}) as Record<string, unknown>;
    const next = { ...stored, ...change(parseServerSettings(stored), rows[0].backup_target) };
    const parsed = parseServerSettings(next);
    await db.query("UPDATE server SET settings = $2::jsonb WHERE name = $1", [serverName, JSON.stringify(next)]);
    expectEncrypted(parsed.encryptedTargets);
    return parsed;
  });
}

/** The settings `servers set <server> key=value ...` changes, each read from text. */
const SETTABLE: Record<string, (text: string) => unknown> = {
  reportTo: (text) => text.split(",").map((a) => a.trim()).filter(Boolean),
  lmtpHost: (text) => text.trim(),
  lmtpPort: (text) => wholeNumber("lmtpPort").parse(text),
  workerConcurrency: (text) => wholeNumber("workerConcurrency").parse(text),
  minFreeBytes: (text) => wholeNumber("minFreeBytes", { min: 0 }).parse(text),
  minFreePercent: (text) => wholeNumber("minFreePercent", { min: 0, max: 100 }).parse(text),
  redoShipSeconds: (text) => wholeNumber("redoShipSeconds", { min: 0, max: 86_400 }).parse(text),
  rpoAlertSeconds: (text) => wholeNumber("rpoAlertSeconds", { min: 10, max: 7 * 86_400 }).parse(text),
  undoLeaseDays: (text) => wholeNumber("undoLeaseDays", { min: 0, max: 366 }).parse(text),
};

/** `servers set mail1 reportTo=a@x,b@y lmtpHost=0.0.0.0`: a bad key or value changes nothing. */
export async function setServerSettings(serverName: string, assignments: string[]): Promise<ServerSettings> {
  if (!assignments.length) throw new InvalidInputError(`give key=value pairs; settable: ${Object.keys(SETTABLE).join(", ")}`);
  const changes: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf("=");
    const key = at > 0 ? assignment.slice(0, at) : assignment;
    const read = SETTABLE[key];
    if (!read) throw new InvalidInputError(`${key} is not a setting servers set changes; settable: ${Object.keys(SETTABLE).join(", ")}`);
    if (at < 0) throw new InvalidInputError(`${key} needs a value: ${key}=...`);
    try {
      changes[key] = read(assignment.slice(at + 1));
    } catch (error) {
      throw new InvalidInputError(error instanceof z.ZodError ? error.issues.map((i) => i.message).join("; ") : (error as Error).message);
    }
  }
  const checked = serverSettingsSchema.partial().safeParse(changes);
  if (!checked.success) throw new InvalidInputError(checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return updateSettings(serverName, () => checked.data as Partial<ServerSettings>);
}

/** The report recipients as the console sets them: `{ reportTo: [emails] }` (empty: MAILVAULT_REPORT_TO). */
export const reportToRequest = z.object({ reportTo: z.array(z.email("each recipient is an email address")).max(20, "at most 20 recipients") }).strict();

export async function setReportRecipients(serverName: string, raw: unknown): Promise<string[]> {
  const parsed = reportToRequest.safeParse(raw);
  if (!parsed.success) throw new InvalidInputError(parsed.error.issues.map((i) => i.message).join("; "));
  const reportTo = [...new Set(parsed.data.reportTo.map((a) => a.trim().toLowerCase()))];
  return (await updateSettings(serverName, () => ({ reportTo }))).reportTo;
}

/**
 * A target found encrypted (it has keys) that the directory does not yet record, as targets
 * encrypted before the directory kept that: recorded now, so it stays encrypted.
 */
export async function rememberEncryption(server: { name: string; settings: ServerSettings }, url: string, encrypted: boolean): Promise<void> {
  if (encrypted && !server.settings.encryptedTargets.includes(url)) await recordEncryptedTarget(server.name, url);
}

/** `repo init --encrypt` made this target of the server encrypted: from now on it must stay so. */
export async function recordEncryptedTarget(serverName: string, url: string): Promise<void> {
  await updateSettings(serverName, (settings) => ({ encryptedTargets: [...new Set([...settings.encryptedTargets, url])] }));
}
