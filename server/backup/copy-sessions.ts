/**
 * `mailvault copy`: a server's published sessions copied from its primary target to one of its
 * copy targets (a second folder, an S3 bucket), for the 3-2-1 rule. Per session:
 *
 *   1. the blobs its accounts need that the destination lacks are found in the source's index,
 *      and only their packs are sent, whole, as they are named (a pack's name is the hash of its
 *      plaintext, so it is the same on an encrypted target); an index object naming them follows;
 *   2. its files are sent as staged saves, with its part of the accounts index;
 *   3. it is published there the same way a backup publishes (flush, then the commit object);
 *   4. it is verified there (verify-session.ts: every file, every blob, the redo). A copy that
 *      does not verify is unpublished again, so a restore never reads it.
 *
 * Objects pass through both targets' backends, so a copy decrypts and re-encrypts as each
 * target says. A crash midway leaves packs no index names (prune removes them) or an unpublished
 * session folder (the next copy starts it again); neither is ever read as a session.
 */
import { stat } from "node:fs/promises";
import { z } from "zod";
import { consolePool } from "../db/console-db.ts";
import { whileLocked } from "../db/advisory-lock.ts";
import { getServer } from "../directory/list-servers.ts";
import { rememberEncryption } from "../directory/update-settings.ts";
import { InvalidInputError, MailvaultError } from "../errors.ts";
import { eachBySize, eachLimited } from "../each-limited.ts";
import { enqueueJob } from "../jobs/queues.ts";
import { runJob, unlessRefused } from "../jobs/run-job.ts";
import { ObjectNotFoundError } from "../repository/backend.ts";
import { packName } from "../repository/pack-format.ts";
import { saveIndex, type PackInfo } from "../repository/repository-index.ts";
import { SessionNotFoundError } from "./errors.ts";
import { getSession } from "./query-sessions.ts";
import { isObjectStore } from "./free-space.ts";
import { copyTargetNamed, forgetHolding } from "./server-targets.ts";
import { copyAccountsIndexDelta, dropFromAccountsIndex, readAccountsIndex, type AccountsIndex, type SessionDescription } from "./session-files.ts";
import { BackupTarget, fileEntry, isAccountFileObject, shippedSegmentObject, type FileEntry } from "./target.ts";
import { verifySession, type BlobCache, type VerifyProblem } from "./verify-session.ts";

/** Packs are sent in ranges of this size (a pack is tens of MiB; memory holds a few ranges). */
const RANGE_BYTES = 8 << 20;
/** Packs in flight at once. */
const PACK_CONCURRENCY = 3;
/**
 * A session's small files in flight at once: each is a request or two to an object store, and
 * one at a time a full of 400 accounts (2,400 files) took 28 s to send to s3rver.
 */
const FILE_CONCURRENCY = 16;
/** A file may be held whole while it is sent (an S3 save of up to 24 MiB): larger ones go alone. */
const LARGE_FILE_BYTES = 4 * 1024 * 1024;

export interface SessionCopyReport {
  label: string;
  /** copied: sent and verified; present: the destination already held it; failed: see problems. */
  status: "copied" | "present" | "failed";
  packsSent: number;
  /** Packs the session needs that the destination already held. */
  packsPresent: number;
  bytesSent: number;
  files: number;
  verified: boolean;
  problems: VerifyProblem[];
}

export interface CopyOptions {
  to: string;
  label?: string;
  all?: boolean;
  signal?: AbortSignal;
  /** A line for the job log per session. */
  onSession?: (report: SessionCopyReport) => void;
}

/** The `backup.copy` job: one session, or every published one the destination lacks, oldest first. */
export async function copySessions(serverName: string, options: CopyOptions): Promise<SessionCopyReport[]> {
  const server = await getServer(serverName);
  const destination = copyTargetNamed(server, options.to);
  const source = new BackupTarget(server.backupTarget, server.name);
  const dest = new BackupTarget(destination.url, server.name);
  // A folder that is not there is a mount missing on this host, not a place to create: a copy
  // written to the local disk would verify, and be found nowhere else.
  if (!isObjectStore(destination.url) && !(await stat(destination.url).then((s) => s.isDirectory(), () => false))) {
    throw new MailvaultError("unavailable", "target_missing", `copy target ${destination.name} (${destination.url}) is not a folder on this host: is it mounted? (targets add creates it)`);
  }
  await dest.init();
  const [sourceSealed, destSealed] = [await source.backend.encrypted(), await dest.backend.encrypted()];
  await rememberEncryption(server, server.backupTarget, sourceSealed);
  await rememberEncryption(server, destination.url, destSealed);
  if (sourceSealed && !destSealed) {
    throw new MailvaultError(
      "conflict",
      "copy_would_decrypt",
      `${server.name}'s own target is encrypted but copy target ${destination.name} is not: a copy would put the mail there in the clear. Encrypt it first: ./bin/mailvault repo init -s ${server.name} --target ${destination.name} --encrypt`,
    );
  }

  const published = await source.publishedLabels();
  let labels: string[];
  if (options.all) labels = published;
  else {
    if (!options.label || !published.includes(options.label)) throw new SessionNotFoundError(options.label ?? "");
    labels = [options.label];
  }

  const reports: SessionCopyReport[] = [];
  // One copy to a destination at a time: two would remove each other's half-sent sessions.
  const busy = () => new MailvaultError("conflict", "copy_running", `a copy of ${server.name}'s sessions to ${destination.name} is already running: wait for it to end`);
  await whileLocked(`mailvault.copy:${server.name}:${destination.name}`, { busy }, async (held) => {
    try {
      // Each repository's index is read once per run; what this run sends is added as it goes.
      await source.repository({ reload: true });
      await dest.repository({ reload: true });
      const copier = new SessionCopier(source, dest, await readAccountsIndex(source));
      const verifiedThere = await verifiedCopies(server.name, destination.name);
      for (const label of labels) {
        if (options.signal?.aborted) throw new Error("copy aborted");
        // A lost lock means another copy may have begun: nothing more is sent.
        held.throwIfAborted();
        // Published there and verified by a copy: done. Published but never verified (a copy cut
        // off between its publish and its verify): verified now, and sent again if it fails.
        const published = await dest.isPublished(label);
        const report = published && verifiedThere.has(label) ? emptyReport(label, "present") : await copier.copy(label, published);
        if (report.status !== "present") await recordCopy(server.name, destination.name, report);
        reports.push(report);
        options.onSession?.(report);
      }
    } finally {
      forgetHolding();
    }
  });
  return reports;
}

/** The sessions a copy to this target published and verified there (session_copy). */
async function verifiedCopies(server: string, target: string): Promise<Set<string>> {
  const { rows } = await consolePool().query<{ label: string }>(
    "SELECT c.label FROM session_copy c JOIN server v ON v.id = c.server_id WHERE v.name = $1 AND c.target = $2 AND c.verified",
    [server, target],
  );
  return new Set(rows.map((r) => r.label));
}

function emptyReport(label: string, status: SessionCopyReport["status"]): SessionCopyReport {
  return { label, status, packsSent: 0, packsPresent: 0, bytesSent: 0, files: 0, verified: status === "present", problems: [] };
}

class SessionCopier {
  /** Blobs verified at the destination in this run (sessions share most of them). */
  private readonly verified: BlobCache = new Map();

  constructor(
    private readonly source: BackupTarget,
    private readonly dest: BackupTarget,
    private readonly accounts: AccountsIndex,
  ) {}

  /**
   * Sends a session and verifies it there; `published` (there, but never verified by a copy)
   * verifies first and sends only if that fails. Whatever fails after the first file is sent
   * (verify, a store gone, a bug) unpublishes it there again, so a restore never reads it.
   */
  async copy(label: string, published = false): Promise<SessionCopyReport> {
    const report = emptyReport(label, "copied");
    if (published) {
      const check = await verifySession(this.dest, label, this.verified).catch(() => null);
      if (check?.ok) return { ...report, verified: true };
    }
    // What a crashed or failed copy of this session left is started again.
    if ((await this.dest.sessionFiles(label, "")).length) await this.remove(label);
    try {
      await this.sendBlobs(label, report);
      await this.sendFiles(label, report);
      const verification = await verifySession(this.dest, label, this.verified);
      report.verified = verification.ok;
      report.problems = verification.problems;
      if (!verification.ok) report.status = "failed";
    } catch (error) {
      await this.remove(label).catch(() => {});
      throw error;
    }
    if (!report.verified) await this.remove(label);
    return report;
  }

  /** Unpublishes a session at the destination: the commit object first, then its files and its accounts-index part. */
  private async remove(label: string): Promise<void> {
    await this.dest.removeSession(label);
    await dropFromAccountsIndex(this.dest, [label]);
  }

  /** The packs holding the session's blobs that the destination lacks, then an index naming them. */
  private async sendBlobs(label: string, report: SessionCopyReport): Promise<void> {
    const [from, to] = [await this.source.repository(), await this.dest.repository()];
    const packs = new Map<string, PackInfo>();
    const legacy: string[] = [];
    const present = new Set<string>();
    await this.source.eachBlobList(label, (_, digests) => {
      for (const digest of digests) {
        const at = to.index.get(digest);
        if (at) present.add(at.pack);
        else {
          const pack = from.index.get(digest)?.pack;
          if (pack) packs.set(pack, from.index.packs.get(pack)!);
          else legacy.push(digest);
        }
      }
    }, { listsMustRead: true });
    report.packsPresent = present.size;
    await eachLimited(packs.values(), PACK_CONCURRENCY, async (pack) => {
      // No digest given: a source pack damaged since it was written is copied, and this
      // session's verify below reports it, as a problem of this session alone.
      await this.dest.backend.save(packName(pack.id), this.packRanges(pack));
      report.packsSent++;
      report.bytesSent += pack.size;
    });
    if (packs.size) {
      await saveIndex(this.dest.backend, [...packs.values()]);
      for (const pack of packs.values()) to.index.addPack(pack);
    }
    // Format-1 blob files of the source go into a pack of their own at the destination.
    if (legacy.length) {
      const writer = to.writer();
      const missing = await this.source.readBlobs(legacy, async (digest, bytes) => {
        report.bytesSent += await writer.add(digest, bytes);
      });
      await writer.close();
      // The source itself lacks them: this session cannot be copied whole (verify it there).
      if (missing.length) throw new Error(`${label} needs ${missing.length} blob(s) its own target does not hold (${missing.slice(0, 3).join(", ")}): run verify -lb ${label}`);
      report.packsSent += writer.packs.length;
    }
  }

  private async destHolds(entry: FileEntry): Promise<boolean> {
    if ((await this.dest.backend.stat(entry.object!))?.size !== entry.size) return false;
    const bytes = await this.dest.backend.read(entry.object!).catch(() => null);
    return bytes !== null && fileEntry(entry.path, bytes).sha256 === entry.sha256;
  }

  private packRanges(pack: PackInfo): AsyncGenerator<Buffer> {
    return this.objectRanges(packName(pack.id), pack.size);
  }

  private async *objectRanges(name: string, size: number): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += RANGE_BYTES) {
      yield await this.source.backend.read(name, { offset, length: Math.min(RANGE_BYTES, size - offset) });
    }
  }

  /** Every file of the session as staged saves, its accounts-index delta, then the commit object. */
  private async sendFiles(label: string, report: SessionCopyReport): Promise<void> {
    const commit = await this.source.readSessionFile(label, "manifest.sha256");
    const files = (await this.source.sessionFiles(label, "")).filter((file) => file.path !== "manifest.sha256");
    await eachBySize(files, FILE_CONCURRENCY, LARGE_FILE_BYTES, async (file) => {
      await this.dest.backend.save(this.dest.sessionObject(label, file.path), this.source.sessionFileChunks(label, file.path), { staged: true });
      report.files++;
      report.bytesSent += file.size;
    });
    // Account files shared by content (dumps/ab/<sha256>): sent unless the destination holds
    // them whole from an earlier copy (read back: a damaged one is sent again, mending it).
    // Once per object: accounts share some (every empty dump is one), and two lanes sending the
    // same one would write it at once.
    const shared = [...new Map([...(await this.source.sessionManifest(label)).values()].filter((entry) => isAccountFileObject(entry.object)).map((entry) => [entry.object!, entry])).values()];
    await eachBySize(shared, FILE_CONCURRENCY, LARGE_FILE_BYTES, async (entry) => {
      if (await this.destHolds(entry)) return;
      await this.dest.backend.save(entry.object!, this.objectRanges(entry.object!, entry.size), { staged: true });
      report.files++;
      report.bytesSent += entry.size;
    });
    const description = await this.source.readSessionJson<SessionDescription>(label);
    // Shipped redo segments the session names are shared objects: sent once, saved atomically.
    for (const name of description?.redo?.shipped ?? []) {
      const object = shippedSegmentObject(name);
      const info = await this.source.backend.stat(object);
      if (!info) throw new ObjectNotFoundError(this.source.backend.location, object);
      if ((await this.dest.backend.stat(object))?.size === info.size) continue;
      await this.dest.backend.save(object, this.objectRanges(object, info.size));
      report.bytesSent += info.size;
    }
    await copyAccountsIndexDelta(this.accounts, this.dest, label, description?.accounts ?? []);
    await this.dest.publish(label, commit);
  }
}

async function recordCopy(serverName: string, target: string, report: SessionCopyReport): Promise<void> {
  await consolePool().query(
    `INSERT INTO session_copy (server_id, label, target, copied_at, packs_sent, packs_present, bytes_sent, files, verified, problems)
     SELECT id, $2, $3, now(), $4, $5, $6, $7, $8, $9::jsonb FROM server WHERE name = $1
     ON CONFLICT (server_id, label, target) DO UPDATE SET copied_at = now(), packs_sent = $4, packs_present = $5,
       bytes_sent = $6, files = $7, verified = $8, problems = $9::jsonb`,
    [serverName, report.label, target, report.packsSent, report.packsPresent, report.bytesSent, report.files, report.verified, JSON.stringify(report.problems)],
  );
}

/** A copy request as the API and CLI take it. */
export const copyRequest = z.object({
  to: z.string().min(1, "name the copy target (to)"),
  label: z.string().min(1).optional(),
  all: z.boolean().optional(),
});

/**
 * The console's and the CLI's way to copy: the target and the session are checked here (a
 * mistake is a 4xx before anything is queued), the copy runs on the server's worker.
 */
export async function checkCopyRequest(server: string, raw: unknown): Promise<{ server: string; to: string; label?: string; all: boolean }> {
  const parsed = copyRequest.safeParse(raw);
  if (!parsed.success) throw new InvalidInputError(parsed.error.issues.map((i) => i.message).join("; "));
  const input = parsed.data;
  if (Boolean(input.label) === Boolean(input.all)) throw new InvalidInputError("copy one session (-lb <label>) or all of them (--all)");
  const found = await getServer(server);
  copyTargetNamed(found, input.to);
  if (input.label) {
    const session = await getSession(found.name, input.label);
    if (session.status !== "completed") throw new InvalidInputError(`${input.label} is ${session.status}: only a completed session can be copied`);
  }
  return { server: found.name, to: input.to, label: input.label, all: Boolean(input.all) };
}

/** Queues the copy and answers at once with the job (the console follows it on the Jobs page). */
export async function submitCopy(server: string, raw: unknown): Promise<{ jobId: string; server: string; to: string }> {
  const checked = await checkCopyRequest(server, raw);
  const job = await enqueueJob(checked.server, "backup.copy", { to: checked.to, label: checked.label, all: checked.all });
  return { jobId: job.id!, server: checked.server, to: checked.to };
}

/** Queues the copy and waits for it (the CLI); a refusal found on the worker comes back as its error. */
export async function runCopy(server: string, raw: unknown, timeoutMs = 6 * 3_600_000): Promise<SessionCopyReport[]> {
  const checked = await checkCopyRequest(server, raw);
  const { result } = await runJob(checked.server, "backup.copy", { to: checked.to, label: checked.label, all: checked.all }, timeoutMs);
  return unlessRefused<SessionCopyReport[]>(result);
}
