/**
 * verify: re-reads a published session and says exactly what is damaged: the manifest against
 * its checksum, every file against the manifest (size and sha256), every blob the session's
 * accounts refer to (present, and its content hashes to its name), and the redo segments (their
 * own checksums, and that together they cover the session's sequence range without a hole).
 */
import { packName } from "../repository/pack-format.ts";
import { createHash } from "node:crypto";
import { readSegment, SegmentCorruptError } from "../redo/segment-format.ts";
import { listShipped } from "../redo/ship-redo.ts";
import { ObjectNotFoundError } from "../repository/backend.ts";
import { eachBySize } from "../each-limited.ts";
import { SessionNotFoundError } from "./errors.ts";
import type { SessionDescription } from "./session-files.ts";
import { consolePool } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { BackupTarget, fileEntry, isAccountFileObject, shippedSegmentObject, type FileEntry } from "./target.ts";

/**
 * Files read back at once: on an object store each is a request, and one at a time they set the
 * pace. A file is read whole, so those over LARGE_FILE_BYTES (a large mailbox's dump) go alone.
 */
const FILES_AT_ONCE = 16;
const LARGE_FILE_BYTES = 4 * 1024 * 1024;

export interface VerifyProblem {
  kind: "manifest" | "file" | "blob" | "redo" | "pack" | "garbage";
  path: string;
  message: string;
}

export interface SessionVerification {
  label: string;
  ok: boolean;
  files: number;
  blobs: number;
  segments: number;
  problems: VerifyProblem[];
}

/** Blob digests already found good in this run (sessions share blobs). */
export type BlobCache = Map<string, boolean>;

export async function verifySession(target: BackupTarget, label: string, blobCache: BlobCache = new Map()): Promise<SessionVerification> {
  const report: SessionVerification = { label, ok: true, files: 0, blobs: 0, segments: 0, problems: [] };
  const problem = (kind: VerifyProblem["kind"], p: string, message: string) => report.problems.push({ kind, path: p, message });

  const read = (relative: string) => target.readSessionFile(label, relative).catch((error: unknown) => (error instanceof ObjectNotFoundError ? null : Promise.reject(error)));
  const commit = await read("manifest.sha256");
  if (!commit) throw new SessionNotFoundError(label);
  const manifestBytes = (await read("manifest.json")) ?? Buffer.alloc(0);
  const recorded = commit.toString("utf8").split(/\s+/)[0];
  if (createHash("sha256").update(manifestBytes).digest("hex") !== recorded) problem("manifest", "manifest.json", "does not match manifest.sha256");
  let files: FileEntry[] = [];
  try {
    files = (JSON.parse(manifestBytes.toString("utf8")) as { files: FileEntry[] }).files;
  } catch {
    problem("manifest", "manifest.json", "is not valid JSON");
  }

  // Several files at a time (each a request on an object store), their problems reported in
  // the manifest's order.
  const fileProblems: (VerifyProblem | null)[] = [];
  await eachBySize(files, FILES_AT_ONCE, LARGE_FILE_BYTES, async (entry, i) => {
    // A file held elsewhere is checked where it is: a shipped redo segment (redo/<name>), an
    // account file shared by content (dumps/ab/<sha256>).
    const bytes = await (entry.object ? target.backend.read(entry.object) : read(entry.path)).catch(() => null);
    const actual = bytes && fileEntry(entry.path, bytes);
    const shown = isAccountFileObject(entry.object) ? `${entry.path} (${entry.object})` : (entry.object ?? entry.path);
    const found = (message: string): VerifyProblem => ({ kind: "file", path: shown, message });
    if (!actual) fileProblems[i] = found("is missing");
    else if (actual.size !== entry.size) fileProblems[i] = found(`has ${actual.size} bytes, the manifest says ${entry.size}`);
    else if (actual.sha256 !== entry.sha256) fileProblems[i] = found("checksum mismatch (content changed)");
  });
  report.files += files.length;
  for (const found of fileProblems) if (found) report.problems.push(found);

  // Every blob the accounts name, read back a pack span at a time and hashed; a blob in a
  // damaged pack is named with the pack and the first account that needs it.
  const neededBy = new Map<string, string>();
  // A metadata-only session (backup --exclude-blobs) names bodies the target never held.
  const metadataOnly = await read("session.json").then((b) => b !== null && (JSON.parse(b.toString("utf8")) as { excludeBlobs?: boolean }).excludeBlobs === true, () => false);
  if (!metadataOnly) {
    await target.eachBlobList(label, (account, digests) => {
      for (const digest of digests) {
        report.blobs++;
        if (!blobCache.get(digest) && !neededBy.has(digest)) neededBy.set(digest, account);
      }
    });
  }
  const bad = new Set<string>();
  const missing = await target.checkBlobs([...neededBy.keys()], (digest, detail) => {
    bad.add(digest);
    problem("blob", digest, `${detail} (needed by accounts/${neededBy.get(digest)})`);
  });
  for (const digest of missing) {
    bad.add(digest);
    problem("blob", digest, `missing from the target (needed by accounts/${neededBy.get(digest)})`);
  }
  for (const digest of neededBy.keys()) if (!bad.has(digest)) blobCache.set(digest, true);

  const description = JSON.parse(((await read("session.json").catch(() => null)) ?? "{}").toString()) as Partial<SessionDescription>;
  const redo = description.redo;
  if (redo?.fromSeq != null) {
    let expected = redo.fromSeq;
    const shipped = new Set(redo.shipped ?? []);
    for (const name of redo.segments) {
      report.segments++;
      // A shipped segment is named as the target names it (redo/<name>), a session's own by its path in the session.
      const object = shipped.has(name) ? shippedSegmentObject(name) : target.sessionObject(label, `redologs/${name}`);
      const relative = shipped.has(name) ? object : `redologs/${name}`;
      if (!(await target.backend.stat(object))) {
        problem("redo", relative, "is missing");
        continue;
      }
      try {
        for await (const entry of readSegment(name, target.segmentReader(object))) {
          if (!("header" in entry)) continue;
          if (entry.header.firstSeq > expected) problem("redo", relative, `gap in redo sequence: missing ${expected} through ${entry.header.firstSeq - 1}`);
          expected = Math.max(expected, entry.header.lastSeq + 1);
        }
      } catch (error) {
        // A segment the reader cannot get through is this session's damage, whatever the cause.
        if (error instanceof SegmentCorruptError) problem("redo", relative, `damaged at byte ${error.offset}: ${error.reason}`);
        else problem("redo", relative, `cannot be read: ${(error as Error).message}`);
      }
    }
    if (expected <= redo.throughSeq) problem("redo", "redologs/", `gap in redo sequence: missing ${expected} through ${redo.throughSeq}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}

export async function verifySessions(target: BackupTarget, labels: string[]): Promise<SessionVerification[]> {
  const cache: BlobCache = new Map();
  const reports: SessionVerification[] = [];
  for (const label of labels) reports.push(await verifySession(target, label, cache));
  return reports;
}

/**
 * The repository as a whole: every pack re-read against its name, index entries whose pack is
 * gone, and packs no index names (garbage a crashed or running backup left, which prune removes:
 * reported, but not damage), and likewise account files (dumps/) no published session names.
 */
export async function verifyRepository(target: BackupTarget): Promise<SessionVerification> {
  const repo = await target.repository();
  const found = await repo.verify();
  const problems: VerifyProblem[] = [
    ...found.damaged.map((d) => ({ kind: "pack" as const, path: packName(d.pack), message: `${d.detail}${d.blobs.length ? `; blobs touched: ${d.blobs.join(", ")}` : ""}` })),
    ...found.missingPacks.map((id) => ({ kind: "pack" as const, path: packName(id), message: "is named by the index but missing" })),
    ...found.unindexedPacks.map((id) => ({ kind: "garbage" as const, path: packName(id), message: "no index names it (left by a crashed or running backup); prune removes it" })),
    ...((await target.unreferencedAccountFiles()) ?? []).map((f) => ({ kind: "garbage" as const, path: f.name, message: "no published session names this account file (left by a failed or running backup, or a deleted session); prune removes it" })),
  ];
  return { label: "repository", ok: found.damaged.length === 0 && found.missingPacks.length === 0, files: found.packs, blobs: found.blobs, segments: 0, problems };
}

/**
 * The shipped redo (`redo/`, ship-redo.ts): every segment read through against its checksums,
 * and the segments joined without a hole or an overlap from the first to the last.
 */
export async function verifyShippedRedo(target: BackupTarget): Promise<SessionVerification> {
  const report: SessionVerification = { label: "shipped redo", ok: true, files: 0, blobs: 0, segments: 0, problems: [] };
  // A gap the published sessions cover is no loss (shipping was off for a while, or a target
  // was added later): those numbers are in the sessions' own segments.
  const covered: [number, number][] = [];
  for (const label of await target.publishedLabels()) {
    const redo = (await target.readSessionJson<Partial<SessionDescription>>(label).catch(() => null))?.redo;
    if (redo?.fromSeq != null) covered.push([redo.fromSeq, redo.throughSeq]);
  }
  const sessionsCover = (from: number, to: number) => {
    let next = from;
    for (const [a, b] of covered.sort((x, y) => x[0] - y[0])) if (a <= next && b >= next) next = b + 1;
    return next > to;
  };
  let expected: number | null = null;
  for (const name of await listShipped(target)) {
    report.segments++;
    const object = shippedSegmentObject(name);
    try {
      for await (const entry of readSegment(name, target.segmentReader(object))) {
        if (!("header" in entry)) continue;
        const gapCovered = expected !== null && entry.header.firstSeq > expected && sessionsCover(expected, entry.header.firstSeq - 1);
        if (expected !== null && entry.header.firstSeq !== expected && !gapCovered) {
          report.problems.push({ kind: "redo", path: object, message: entry.header.firstSeq > expected ? `gap in shipped redo: missing ${expected} through ${entry.header.firstSeq - 1}` : `overlaps the segment before it from ${entry.header.firstSeq}` });
        }
        expected = entry.header.lastSeq + 1;
      }
    } catch (error) {
      report.problems.push({ kind: "redo", path: object, message: error instanceof SegmentCorruptError ? `damaged at byte ${error.offset}: ${error.reason}` : `cannot be read: ${(error as Error).message}` });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

/**
 * The `backup.verify` job: one session, the newest N, or every published one of a server and
 * its repository. Each session's result is kept in the catalog (the sessions list and page show
 * it; the restore planner warns before using a session that failed).
 */
export async function verifyServerBackups(serverName: string, options: { label?: string; all?: boolean; newest?: number }): Promise<SessionVerification[]> {
  const server = await getServer(serverName);
  const target = new BackupTarget(server.backupTarget, server.name);
  // Labels are <type>-<time>: by time, so "the newest N" are the newest whatever their type.
  const byTime = (label: string) => label.slice(label.indexOf("-") + 1);
  const published = options.label ? [options.label] : (await target.publishedLabels()).sort((a, b) => byTime(a).localeCompare(byTime(b)));
  const labels = options.newest ? published.slice(-options.newest) : published;
  const reports: SessionVerification[] = [];
  const cache: BlobCache = new Map();
  for (const label of labels) {
    const report = await verifySession(target, label, cache);
    await consolePool().query(
      `UPDATE backup_session s SET verified_at = now(), verify_ok = $3, verify_problems = $4::jsonb
         FROM server v WHERE v.id = s.server_id AND v.name = $1 AND s.label = $2`,
      [server.name, label, report.ok, JSON.stringify(report.problems.slice(0, 100))],
    );
    reports.push(report);
  }
  if (options.all) reports.push(await verifyRepository(target), await verifyShippedRedo(target));
  return reports;
}
