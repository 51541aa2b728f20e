/**
 * fsync of a folder, so the names created, renamed or removed in it survive a crash: a file's
 * own fsync makes its bytes durable, not the entry that names it.
 */
import { open } from "node:fs/promises";

export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems (network, FUSE) cannot fsync a folder; there is nothing more we can do.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP") throw error;
  } finally {
    await handle.close();
  }
}
