import { mkdir } from "node:fs/promises";
import { isObjectStore } from "../backup/free-space.ts";
import { getServer } from "../directory/list-servers.ts";
import { ensureMailstore } from "./schema.ts";

/** Creates what a server's mailstore needs (database, schemas, folders); idempotent. */
export async function setUpServerStore(serverName: string): Promise<{ groups: number; created: boolean }> {
  const server = await getServer(serverName);
  const result = await ensureMailstore({ server: server.name, database: server.mailstoreDatabase, groups: server.settings.mailboxGroups });
  // An object-store target (s3://…) has no folder to make.
  const copies = server.settings.copyTargets.map((t) => t.url);
  for (const dir of [server.blobVolumePath, server.redoArchivePath, server.backupTarget, ...copies]) if (!isObjectStore(dir)) await mkdir(dir, { recursive: true });
  return result;
}
