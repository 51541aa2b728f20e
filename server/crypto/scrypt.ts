/** scrypt from node:crypto, as a promise, with the memory its cost needs allowed and no more. */
import { scrypt } from "node:crypto";

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

export function scryptKey(secret: string, salt: Buffer, keyLength: number, cost: ScryptCost): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; node refuses anything over maxmem, whose default is 32 MiB.
  const maxmem = 128 * cost.N * cost.r + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => scrypt(secret, salt, keyLength, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key))));
}
