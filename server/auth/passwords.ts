/**
 * Password hashing with scrypt (node:crypto): no native addon, parameters stored with the hash.
 *
 * The cost is OWASP's current guidance for scrypt, in the form that needs the least memory:
 * N=2^15, r=8, p=3 (32 MiB, about a quarter of a second here), the same work as N=2^17 with p=1
 * at a quarter of its memory, so a burst of sign-ins does not balloon the console. A hash made
 * with other parameters still verifies, and `needsRehash` says to replace it at the next sign-in.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { scryptKey } from "../crypto/scrypt.ts";

export const SCRYPT = { N: 32768, r: 8, p: 3 };
/** The most memory a stored hash's cost may ask for (128·N·r bytes): a forged row cannot make sign-in allocate gigabytes. */
const MAX_MEMORY = 256 * 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = SCRYPT;
  const hash = await scryptKey(password, salt, 32, SCRYPT);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

function parse(stored: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } | null {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (scheme !== "scrypt" || !salt || !hash || !Number.isInteger(N) || N < 2 || !Number.isInteger(R) || R < 1 || R > 32 || 128 * N * R > MAX_MEMORY || !Number.isInteger(P) || P < 1 || P > 16) return null;
  return { N, r: R, p: P, salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const actual = await scryptKey(password, parsed.salt, parsed.hash.length, { N: parsed.N, r: parsed.r, p: parsed.p });
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}

/** A hash made with a cost other than today's: replace it once the password is known to be right. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.N !== SCRYPT.N || parsed.r !== SCRYPT.r || parsed.p !== SCRYPT.p;
}
