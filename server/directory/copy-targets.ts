/**
 * A server's copy targets, kept in its settings (server-settings.ts): added and removed by name.
 * A target is checked before it is stored: its name and URL by the settings schema, an S3 URL by
 * the S3 backend's own parser, and it must not be the primary or another copy target. Removing a
 * copy target leaves what it holds where it is; only the directory forgets it.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { isS3Url, parseS3Url } from "../repository/s3-backend.ts";
import { copyTargetSchema, type CopyTarget } from "./server-settings.ts";
import { updateSettings } from "./update-settings.ts";

async function updateCopyTargets(serverName: string, change: (targets: CopyTarget[], primary: string) => CopyTarget[]): Promise<CopyTarget[]> {
  return (await updateSettings(serverName, (settings, primary) => ({ copyTargets: change(settings.copyTargets, primary) }))).copyTargets;
}


export async function addCopyTarget(serverName: string, input: { name: string; url: string }): Promise<CopyTarget[]> {
  const parsed = copyTargetSchema.safeParse({ name: input.name, url: input.url.trim() });
  if (!parsed.success) throw new InvalidInputError(parsed.error.issues.map((i) => i.message).join("; "));
  const target = parsed.data;
  if (isS3Url(target.url)) {
    try {
      parseS3Url(target.url);
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
  }
  const list = await updateCopyTargets(serverName, (targets, primary) => {
    if (targets.some((t) => t.name === target.name)) throw new MailvaultError("conflict", "target_exists", `${serverName} already has a copy target named ${target.name}`);
    const same = (url: string) => placeOf(url) === placeOf(target.url);
    if (same(primary)) throw new InvalidInputError(`${target.url} is ${serverName}'s own backup target: a copy must go somewhere else`);
    const twin = targets.find((t) => same(t.url));
    if (twin) throw new InvalidInputError(`${target.url} is already ${serverName}'s copy target ${twin.name}`);
    return [...targets, target];
  });
  // A folder is made here, by the admin, so that a copy never makes one on a host that lacks the mount.
  if (!isS3Url(target.url)) await mkdir(target.url, { recursive: true });
  return list;
}

/** Where a target really is, however its URL is spelled: a resolved folder, or endpoint, bucket and prefix. */
export function placeOf(url: string): string {
  if (!isS3Url(url)) return path.resolve(url);
  const s3 = parseS3Url(url);
  return `s3|${s3.endpoint ?? ""}|${s3.bucket}|${s3.prefix}`;
}

export async function removeCopyTarget(serverName: string, name: string): Promise<CopyTarget[]> {
  return updateCopyTargets(serverName, (targets) => {
    if (!targets.some((t) => t.name === name)) throw new MailvaultError("not_found", "target_not_found", `${serverName} has no copy target named ${name}`);
    return targets.filter((t) => t.name !== name);
  });
}
