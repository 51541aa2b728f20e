import { mkdir, statfs } from "node:fs/promises";
import path from "node:path";
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

export interface FreeSpace {
  freeBytes: number;
  totalBytes: number;
  freePercent: number;
}

/** An object store (an `s3://` target) has no fixed free space to watch. */
export class NoFixedSpaceError extends Error {
  readonly code = "no_fixed_space";
  constructor(target: string) {
    super(`${target.replace(/\?.*$/, "")} is an object store: it has no fixed free space to watch`);
  }
}

export function isObjectStore(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(target);
}

/** Free space of the filesystem holding `folder` (or, before it exists, its nearest existing parent). */
export async function measureFreeSpace(folder: string): Promise<FreeSpace> {
  if (isObjectStore(folder)) throw new NoFixedSpaceError(folder);
  let at = path.resolve(folder);
  for (;;) {
    const fs = await statfs(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" && path.dirname(at) !== at) return null;
      throw error;
    });
    if (fs) return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize, freePercent: (fs.bavail / fs.blocks) * 100 };
    at = path.dirname(at);
  }
}

/** Refuses, with the numbers, when the target has less free space than the server's minimum. */
export async function checkFreeSpace(folder: string, minimum: { bytes: number; percent: number }): Promise<{ freeBytes: number; freePercent: number } | null> {
  if (isObjectStore(folder)) return null;
  await mkdir(folder, { recursive: true });
  const { freeBytes, freePercent } = await measureFreeSpace(folder);
  if (freeBytes < minimum.bytes || freePercent < minimum.percent) {
    throw new InsufficientSpaceError(
      `backup target ${folder} has ${human(freeBytes)} (${freePercent.toFixed(1)}%) free; this server needs at least ${human(minimum.bytes)} and ${minimum.percent}% before a backup starts`,
    );
  }
  return { freeBytes, freePercent };
}
