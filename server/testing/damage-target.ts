/**
 * Deliberate damage to a folder target, for tests that check it is found: one byte flipped
 * inside a blob's bytes in its pack. Returns the pack and a function that puts the bytes back.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BackupTarget } from "../backup/target.ts";
import { packName } from "../repository/pack-format.ts";

export async function flipByteInBlob(target: BackupTarget, blob: string): Promise<{ pack: string; restore: () => Promise<void> }> {
  const at = (await target.repository({ reload: true })).index.get(blob);
  if (!at) throw new Error(`blob ${blob} is in no pack of the target`);
  const packFile = path.join(target.root, packName(at.pack));
  const pack = await readFile(packFile);
  const flipped = Buffer.from(pack);
  flipped[at.offset + Math.floor(at.length / 2)]! ^= 0x20;
  await writeFile(packFile, flipped);
  return { pack: at.pack, restore: () => writeFile(packFile, pack) };
}
