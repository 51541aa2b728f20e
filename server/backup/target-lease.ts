/**
 * Which console installation holds a backup target: `lease.json` at its root names the console
 * (console_identity), its host and when it last renewed. The redo shipper renews it about once a
 * minute for every target it ships to; a lease not renewed for 10 minutes is free. `repo attach`
 * on another installation refuses a target whose lease is live, unless told to take it over; a
 * shipper that finds its target taken over stops shipping there and says so (restic's locks
 * work alike: one exclusive holder, stale after a while).
 */
import os from "node:os";
import { consolePool } from "../db/console-db.ts";
import { MailvaultError } from "../errors.ts";
import { ObjectNotFoundError } from "../repository/backend.ts";
import type { BackupTarget } from "./target.ts";

export const LEASE_OBJECT = "lease.json";
export const LEASE_TTL_MS = 10 * 60_000;
const RENEW_EVERY_MS = 60_000;

export interface Lease {
  console: string;
  host: string;
  renewedAt: string;
}

let identity: Promise<string> | undefined;
let identityOf: string | undefined;

/** This installation's id (one row of console_identity, made by its migration). */
export async function consoleIdentity(): Promise<string> {
  const key = process.env.DATABASE_URL ?? "";
  if (!identity || identityOf !== key) {
    identityOf = key;
    identity = consolePool()
      .query<{ id: string }>("SELECT id FROM console_identity ORDER BY created_at LIMIT 1")
      .then(async ({ rows }) => rows[0]?.id ?? (await consolePool().query<{ id: string }>("INSERT INTO console_identity DEFAULT VALUES RETURNING id")).rows[0]!.id);
    identity.catch(() => (identity = undefined));
  }
  return identity;
}

export async function readLease(target: BackupTarget): Promise<Lease | null> {
  const bytes = await target.backend.read(LEASE_OBJECT).catch((error: unknown) => (error instanceof ObjectNotFoundError ? null : Promise.reject(error)));
  return bytes ? (JSON.parse(bytes.toString("utf8")) as Lease) : null;
}

export function isLive(lease: Lease | null, now = Date.now()): lease is Lease {
  return lease !== null && now - Date.parse(lease.renewedAt) < LEASE_TTL_MS;
}

export class TargetHeldError extends MailvaultError {
  constructor(location: string, lease: Lease) {
    super(
      "conflict",
      "target_held",
      `${location} is held by another Mailvault console (on ${lease.host}, renewed ${lease.renewedAt}): attach it only if that installation is gone, with --takeover`,
    );
  }
}

/** Takes the lease for this installation; a live lease of another refuses unless `takeover`. */
export async function takeLease(target: BackupTarget, options: { takeover?: boolean } = {}): Promise<Lease> {
  const me = await consoleIdentity();
  const held = await readLease(target);
  if (isLive(held) && held.console !== me && !options.takeover) throw new TargetHeldError(target.backend.location, held);
  const lease: Lease = { console: me, host: os.hostname(), renewedAt: new Date().toISOString() };
  await target.backend.save(LEASE_OBJECT, Buffer.from(JSON.stringify(lease, null, 2)));
  return lease;
}

const renewed = new Map<string, number>();

/** Renews this installation's lease about once a minute; throws TargetHeldError once another took the target over. */
export async function renewLease(target: BackupTarget): Promise<void> {
  const key = `${process.env.DATABASE_URL ?? ""}\u0000${target.root}`;
  if (Date.now() - (renewed.get(key) ?? 0) < RENEW_EVERY_MS) return;
  const me = await consoleIdentity();
  const held = await readLease(target);
  // Taken over: another installation attached this target after this one's lease.
  if (held && held.console !== me && isLive(held)) throw new TargetHeldError(target.backend.location, held);
  await takeLease(target);
  renewed.set(key, Date.now());
}
