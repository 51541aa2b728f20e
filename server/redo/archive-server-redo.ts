import { getServerConfig } from "../directory/list-servers.ts";
import { logger } from "../logger.ts";
import { openMailstore } from "../mailstore/mailstore.ts";
import { archiveRedo, type ArchiveResult } from "./archive-redo.ts";
import { checkRpoAlert } from "../reports/rpo-alert.ts";
import { shipping, shipRedo, type ShipResult } from "./ship-redo.ts";

/**
 * The `redo.archive` job: archive with the server's own size and age limits, then ship what is
 * sealed to the server's targets. With shipping on, records wait at most `redoShipSeconds` before
 * they are sealed. Shipping failures do not fail the job: they are recorded per target (redo_ship)
 * and retried with backoff by the next runs, while the segments wait in the local archive.
 */
export async function archiveServerRedo(
  serverName: string,
  options: { force?: boolean; onProgress?: (p: { segments: number; records: number; lastSeq: number }) => void } = {},
): Promise<ArchiveResult & { shipped?: ShipResult[] }> {
  const server = await getServerConfig(serverName);
  const store = await openMailstore(serverName);
  const { maxBytes, maxAgeSeconds } = server.settings.redoArchive;
  const result = await archiveRedo(store, {
    force: options.force,
    // A forced run is someone asking now: it waits for a scheduled run in progress, then seals the rest.
    lockWaitMs: options.force ? 60_000 : 0,
    maxBytes,
    maxAgeSeconds: shipping(server) ? Math.min(maxAgeSeconds, server.settings.redoShipSeconds) : maxAgeSeconds,
    onProgress: options.onProgress,
  });
  if (result.blobsMissing.length > 0) {
    logger.warn(
      { server: serverName, digests: result.blobsMissing },
      `${result.blobsMissing.length} delivered message(s) were missing from the blob volume when their redo was sealed: restore the volume from a backup`,
    );
  }
  if (!shipping(server)) return result;
  // A target slower than the ship interval finishes in the background: the job goes on sealing.
  const shipped = await shipRedo(server, { now: options.force, waitMs: Math.max(5_000, server.settings.redoShipSeconds * 1000) });
  // A crossing of the RPO limit queues a report mail (the worker's sweep sends it).
  await checkRpoAlert(server).catch(() => null);
  return { ...result, shipped };
}

/** How often the worker checks whether the log is due: often enough to honour the age limit, and the ship interval. */
export function archiveCheckIntervalMs(settings: { redoArchive: { maxAgeSeconds: number }; redoShipSeconds: number }): number {
  const archive = Math.min(60_000, Math.max(5_000, Math.round((settings.redoArchive.maxAgeSeconds * 1000) / 4)));
  if (settings.redoShipSeconds === 0) return archive;
  return Math.min(archive, 5_000, Math.max(500, Math.round((settings.redoShipSeconds * 1000) / 4)));
}
