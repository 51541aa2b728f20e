import { mkdir } from "node:fs/promises";
import { getServer } from "../directory/list-servers.ts";
import { ensureMailstore } from "./schema.ts";

/** Creates what a server's mailstore needs (database, schemas, folders); idempotent. */
export async function setUpServerStore(serverName: string): Promise<{ groups: number; created: boolean }> {
  const server = await getServer(serverName);
  const result = await ensureMailstore({ server: server.name, database: server.mailstoreDatabase, groups: server.settings.mailboxGroups });
  for (const dir of [server.blobVolumePath, server.redoArchivePath, server.backupTarget]) await mkdir(dir, { recursive: true });
  return result;
}
