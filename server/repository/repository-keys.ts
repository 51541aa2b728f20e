/**
 * The keys of an encrypted target, as restic keeps them. One random 32-byte repository key
 * encrypts everything (encrypted-backend.ts); it is stored once per passphrase, in `keys/<id>`,
 * sealed with AES-256-GCM under a key derived from that passphrase with scrypt (its parameters
 * and salt stored beside it). Any of the passphrases opens the target; passphrases can be added
 * and removed without re-encrypting anything. Whether a target is encrypted is decided when it is
 * created (`repo init --encrypt`) and fixed after: a target with objects cannot be initialised.
 *
 * The passphrase comes from MAILVAULT_TARGET_PASSPHRASE or the file MAILVAULT_TARGET_PASSPHRASE_FILE
 * names, never from the directory or the API.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { scryptKey, type ScryptCost } from "../crypto/scrypt.ts";
import { readFileSync } from "node:fs";
import os from "node:os";
import { z } from "zod";
import { MailvaultError } from "../errors.ts";
import type { StorageBackend } from "./backend.ts";
import { KEYS_FOLDER } from "./encrypted-backend.ts";

/** scrypt's cost today (OWASP: N = 2^17, r = 8, p = 1; 128 MiB and about half a second here). */
export const SCRYPT_COST = { N: 2 ** 17, r: 8, p: 1 };

const keyFile = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  created: z.string(),
  host: z.string(),
  kdf: z.object({ name: z.literal("scrypt"), N: z.number().int().min(2 ** 10), r: z.number().int().min(1), p: z.number().int().min(1), salt: z.string() }),
  cipher: z.literal("aes-256-gcm"),
  nonce: z.string(),
  /** The repository key, sealed; with its 16-byte tag at the end. */
  data: z.string(),
});
type KeyFile = z.infer<typeof keyFile>;

export class TargetLockedError extends MailvaultError {
  constructor(message: string) {
    super("invalid", "target_locked", message);
  }
}

/** The passphrase in NFC, so the same words typed on another system open the same key. */
const scrypt = (passphrase: string, salt: Buffer, cost: ScryptCost) => scryptKey(passphrase.normalize("NFC"), salt, 32, cost);

/** The passphrase this process was given for encrypted targets, or null. */
export function configuredPassphrase(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.MAILVAULT_TARGET_PASSPHRASE) return env.MAILVAULT_TARGET_PASSPHRASE;
  const file = env.MAILVAULT_TARGET_PASSPHRASE_FILE;
  if (!file) return null;
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new TargetLockedError(`cannot read MAILVAULT_TARGET_PASSPHRASE_FILE ${file}: ${(error as Error).message}`);
  }
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < 12) throw new MailvaultError("invalid", "weak_passphrase", "a target passphrase has at least 12 characters");
}

async function sealKey(repositoryKey: Buffer, passphrase: string, cost: { N: number; r: number; p: number }): Promise<KeyFile> {
  const id = randomBytes(8).toString("hex");
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", await scrypt(passphrase, salt, cost), nonce);
  cipher.setAAD(Buffer.from(`mailvault key ${id}`));
  const data = Buffer.concat([cipher.update(repositoryKey), cipher.final(), cipher.getAuthTag()]);
  return {
    version: 1,
    id,
    created: new Date().toISOString(),
    host: os.hostname(),
    kdf: { name: "scrypt", ...cost, salt: salt.toString("base64") },
    cipher: "aes-256-gcm",
    nonce: nonce.toString("base64"),
    data: data.toString("base64"),
  };
}

async function openKey(file: KeyFile, passphrase: string): Promise<Buffer | null> {
  const sealed = Buffer.from(file.data, "base64");
  const decipher = createDecipheriv("aes-256-gcm", await scrypt(passphrase, Buffer.from(file.kdf.salt, "base64"), file.kdf), Buffer.from(file.nonce, "base64"));
  decipher.setAAD(Buffer.from(`mailvault key ${file.id}`));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  } catch {
    return null;
  }
}

export interface KeyInfo {
  id: string;
  created: string;
  host: string;
}

async function readKeys(backend: StorageBackend): Promise<KeyFile[]> {
  const keys: KeyFile[] = [];
  for await (const o of backend.list(KEYS_FOLDER)) {
    const parsed = keyFile.safeParse(JSON.parse((await backend.read(o.name)).toString("utf8")));
    if (parsed.success) keys.push(parsed.data);
  }
  return keys.sort((a, b) => a.created.localeCompare(b.created));
}

/** Whether the target's objects are encrypted (it has keys). */
export async function isEncrypted(backend: StorageBackend): Promise<boolean> {
  for await (const _ of backend.list(KEYS_FOLDER)) return true;
  return false;
}

/** Makes an empty target encrypted, with its first passphrase; returns the key's id. */
export async function initEncryption(backend: StorageBackend, passphrase: string, cost = SCRYPT_COST): Promise<string> {
  checkPassphrase(passphrase);
  for await (const o of backend.list("")) {
    throw new MailvaultError("conflict", "target_not_empty", `${backend.location} already holds ${o.name}: encryption is chosen when a target is created, before its first backup`);
  }
  const file = await sealKey(randomBytes(32), passphrase, cost);
  await backend.save(`${KEYS_FOLDER}${file.id}`, Buffer.from(JSON.stringify(file, null, 2)));
  return file.id;
}

/** The repository key, opened with any of the target's passphrases; one clear line when none opens. */
export async function unlock(backend: StorageBackend, passphrase: string | null): Promise<{ key: Buffer; keyId: string }> {
  if (passphrase === null) throw new TargetLockedError(`${backend.location} is encrypted: set MAILVAULT_TARGET_PASSPHRASE (or MAILVAULT_TARGET_PASSPHRASE_FILE) to its passphrase`);
  for (const file of await readKeys(backend)) {
    const key = await openKey(file, passphrase);
    if (key) return { key, keyId: file.id };
  }
  throw new TargetLockedError(`wrong passphrase: no key of ${backend.location} opens with the one in MAILVAULT_TARGET_PASSPHRASE`);
}

export async function listKeys(backend: StorageBackend): Promise<KeyInfo[]> {
  return (await readKeys(backend)).map(({ id, created, host }) => ({ id, created, host }));
}

/** Adds a passphrase; the current one must open the target. Returns the new key's id. */
export async function addKey(backend: StorageBackend, passphrase: string | null, newPassphrase: string, cost = SCRYPT_COST): Promise<string> {
  checkPassphrase(newPassphrase);
  const { key } = await unlock(backend, passphrase);
  const file = await sealKey(key, newPassphrase, cost);
  await backend.save(`${KEYS_FOLDER}${file.id}`, Buffer.from(JSON.stringify(file, null, 2)));
  return file.id;
}

/** Removes a passphrase's key; the current passphrase must open the target, and the last key stays. */
export async function removeKey(backend: StorageBackend, passphrase: string | null, id: string): Promise<void> {
  await unlock(backend, passphrase);
  const keys = await readKeys(backend);
  if (!keys.some((k) => k.id === id)) throw new MailvaultError("not_found", "key_not_found", `${backend.location} has no key ${id}: see repo key list`);
  if (keys.length === 1) throw new MailvaultError("conflict", "last_key", `${id} is the last key of ${backend.location}: add another passphrase first, or the backups could never be read again`);
  await backend.remove(`${KEYS_FOLDER}${id}`);
}
