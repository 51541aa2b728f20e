/**
 * A server's backup targets: its primary (where its backups go) and the copy targets its settings
 * name (where `mailvault copy` sends sessions). A restore reads a session from the first target
 * that holds it, the primary first, so a lost or unreachable primary leaves every copied session
 * restorable with no change of command.
 */
import { consolePool } from "../db/console-db.ts";
import type { ServerSummary } from "../directory/list-servers.ts";
import { MailvaultError } from "../errors.ts";
import { isEncrypted } from "../repository/repository-keys.ts";
import { isObjectStore, measureFreeSpace } from "./free-space.ts";
import { BackupTarget, backendFor } from "./target.ts";

export interface TargetEntry {
  name: string;
  url: string;
  role: "primary" | "copy";
}

type ServerTargets = Pick<ServerSummary, "name" | "backupTarget" | "settings">;

/** The primary first, then the copy targets in the order the settings list them. */
export function serverTargets(server: ServerTargets): TargetEntry[] {
  return [
    { name: "primary", url: server.backupTarget, role: "primary" },
    ...server.settings.copyTargets.map((t) => ({ name: t.name, url: t.url, role: "copy" as const })),
  ];
}

/** A copy target of the server by name; a name it does not have is the caller's mistake. */
export function copyTargetNamed(server: ServerTargets, name: string): TargetEntry {
  const found = serverTargets(server).find((t) => t.role === "copy" && t.name === name);
  if (found) return found;
  const known = server.settings.copyTargets.map((t) => t.name);
  throw new MailvaultError(
    "not_found",
    "target_not_found",
    known.length
      ? `${server.name} has no copy target ${JSON.stringify(name)}: its copy targets are ${known.join(", ")}`
      : `${server.name} has no copy targets: add one with ./bin/mailvault targets add -s ${server.name} <name> <folder or s3:// URL>`,
  );
}

/** How long what was learned of a target holding a session is trusted (retention may remove it later). */
const HOLDING_TTL_MS = 60_000;
/** The URL of the target found to hold a set of sessions (not the target object: its backend may be closed and reopened). */
const holding = new Map<string, { at: number; url: Promise<string> }>();

/**
 * The first of the server's targets that holds every one of these published sessions: the
 * primary when it does (one stat per session), else a copy target. A target that cannot be
 * reached counts as not holding them. When none holds them all: with `required`, an error that
 * says which sessions are where; without, the primary, whose reads then say what is missing.
 */
export async function targetHolding(server: ServerTargets, labels: string[], options: { required?: boolean } = {}): Promise<BackupTarget> {
  const wanted = [...new Set(labels)].sort();
  const targets = serverTargets(server).map((t) => t.url);
  const key = `${server.name}\u0000${targets.join("\u0001")}\u0000${options.required ? "required" : ""}\u0000${wanted.join(",")}`;
  let known = holding.get(key);
  if (!known || Date.now() - known.at >= HOLDING_TTL_MS) {
    known = { at: Date.now(), url: findHolder(server, wanted, Boolean(options.required)) };
    holding.set(key, known);
    known.url.catch(() => holding.delete(key));
  }
  return new BackupTarget(await known.url, server.name);
}

async function findHolder(server: ServerTargets, wanted: string[], required: boolean): Promise<string> {
  const missing: string[] = [];
  for (const entry of serverTargets(server)) {
    const candidate = new BackupTarget(entry.url, server.name);
    let failure = "";
    const held = await Promise.all(wanted.map((label) => candidate.isPublished(label))).catch((error: Error) => {
      failure = error.message;
      return null;
    });
    if (held?.every(Boolean)) return entry.url;
    const lacking = held ? wanted.filter((_, i) => !held[i]) : wanted;
    missing.push(`${entry.name} (${entry.url.replace(/\?.*$/, "")}) ${held ? `lacks ${lacking.join(", ")}` : `cannot be read: ${failure}`}`);
  }
  if (!required) return server.backupTarget;
  throw new MailvaultError(
    "unavailable",
    "sessions_unavailable",
    `no target of ${server.name} holds every session this restore reads (${wanted.join(", ")}): ${missing.join("; ")}. Bring the primary back, copy the sessions (mailvault copy), or restore to an earlier point`,
  );
}

/** Forgets which targets hold which sessions (after a copy or a removal in this process). */
export function forgetHolding(): void {
  holding.clear();
}

export interface TargetView {
  name: string;
  role: "primary" | "copy";
  kind: "folder" | "s3";
  /** Where it is, without its settings (`s3://bucket/prefix`, a folder). */
  location: string;
  /** Sealed with a repository key (repo init --encrypt); null when the target could not be read. */
  encrypted: boolean | null;
  /** Bytes of message bodies it holds (its packs); null when it could not be read. */
  packBytes: number | null;
  /** Free space of a folder's filesystem; null for an object store. */
  freeBytes: number | null;
  /** Sessions published there: the catalog's completed sessions for the primary, copies made for a copy target. */
  sessions: number;
  /** The newest copy made to it (copy targets). */
  lastCopy: { label: string; at: string; verified: boolean } | null;
  /** Why it could not be read, if it could not. */
  error: string | null;
}

/** Each of a server's targets as the console and `mailvault targets` show it. */
export async function describeTargets(server: ServerTargets): Promise<TargetView[]> {
  const { rows: copies } = await consolePool().query<{ target: string; sessions: number; label: string; at: Date; verified: boolean }>(
    `SELECT DISTINCT ON (c.target) c.target, count(*) OVER (PARTITION BY c.target)::int AS sessions, c.label, c.copied_at AS at, c.verified
       FROM session_copy c JOIN server s ON s.id = c.server_id
      WHERE s.name = $1 AND c.verified ORDER BY c.target, c.copied_at DESC`,
    [server.name],
  );
  const { rows: primary } = await consolePool().query<{ n: number }>(
    "SELECT count(*)::int AS n FROM backup_session b JOIN server s ON s.id = b.server_id WHERE s.name = $1 AND b.status = 'completed'",
    [server.name],
  );
  return Promise.all(
    serverTargets(server).map(async (entry): Promise<TargetView> => {
      const copy = copies.find((c) => c.target === entry.name);
      const view: TargetView = {
        name: entry.name,
        role: entry.role,
        kind: isObjectStore(entry.url) ? "s3" : "folder",
        location: entry.url.replace(/\?.*$/, ""),
        encrypted: null,
        packBytes: null,
        freeBytes: null,
        sessions: entry.role === "primary" ? primary[0]!.n : (copy?.sessions ?? 0),
        lastCopy: copy ? { label: copy.label, at: copy.at.toISOString(), verified: copy.verified } : null,
        error: null,
      };
      try {
        const backend = backendFor(entry.url);
        view.encrypted = await isEncrypted(backend.raw);
        let bytes = 0;
        for await (const o of backend.raw.list("packs/")) bytes += o.size;
        view.packBytes = bytes;
        if (view.kind === "folder") view.freeBytes = (await measureFreeSpace(entry.url)).freeBytes;
      } catch (error) {
        view.error = (error as Error).message;
      }
      return view;
    }),
  );
}
