import { mkdir, statfs } from "node:fs/promises";
import { InsufficientSpaceError } from "./errors.ts";

function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Refuses, with the numbers, when the target has less free space than the server's minimum. */
export async function checkFreeSpace(folder: string, minimum: { bytes: number; percent: number }): Promise<{ freeBytes: number; freePercent: number }> {
  await mkdir(folder, { recursive: true });
  const fs = await statfs(folder);
  const freeBytes = fs.bavail * fs.bsize;
  const freePercent = (fs.bavail / fs.blocks) * 100;
  if (freeBytes < minimum.bytes || freePercent < minimum.percent) {
    throw new InsufficientSpaceError(
      `backup target ${folder} has ${human(freeBytes)} (${freePercent.toFixed(1)}%) free; this server needs at least ${human(minimum.bytes)} and ${minimum.percent}% before a backup starts`,
    );
  }
  return { freeBytes, freePercent };
}
