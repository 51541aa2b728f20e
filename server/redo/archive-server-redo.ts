import { getServer } from "../directory/list-servers.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { archiveRedo, type ArchiveResult } from "./archive-redo.ts";

/** The `redo.archive` job: archive with the server's own size and age limits. */
export async function archiveServerRedo(serverName: string, options: { force?: boolean; onProgress?: (p: { segments: number; records: number; lastSeq: number }) => void } = {}): Promise<ArchiveResult> {
  const server = await getServer(serverName);
  const store = await openMailstore(serverName);
  return archiveRedo(store, {
    force: options.force,
    // A forced run is someone asking now: it waits for a scheduled run in progress, then seals the rest.
    lockWaitMs: options.force ? 60_000 : 0,
    maxBytes: server.settings.redoArchive.maxBytes,
    maxAgeSeconds: server.settings.redoArchive.maxAgeSeconds,
    onProgress: options.onProgress,
  });
}

/** How often the worker checks whether the log is due: often enough to honour the age limit. */
export function archiveCheckIntervalMs(maxAgeSeconds: number): number {
  return Math.min(60_000, Math.max(5_000, Math.round((maxAgeSeconds * 1000) / 4)));
}
