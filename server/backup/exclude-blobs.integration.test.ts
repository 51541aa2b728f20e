/**
 * backup --exclude-blobs (zimbraBackupSkipBlobs) with real workers: the session holds the
 * mailboxes' metadata and names their message bodies, but the target stores none; it is marked
 * so in the catalog and its session.json, verifies clean, and restores while the bodies are on
 * the volume. With a body gone from the volume, the plan is refused, naming the count and the way
 * out, and nothing runs.
 */
import { rm } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { prisma } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { exportMailbox } from "../restore/export-mailbox.ts";
import { planFromInput } from "../restore/submit-restore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { restoresSettled, runBackup, runRestore, waitFor } from "../testing/wait-for-runs.ts";
import { verifySession } from "./verify-session.ts";
import { submitBackup } from "./submit-backup.ts";
import { BackupTarget } from "./target.ts";

const fx = useMailServer({ workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string) => Buffer.from(`From: boss@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`);

describe("backup --exclude-blobs", () => {
  it("backs up metadata only, restores while the bodies are on the volume, and refuses when one is not", { timeout: 300_000 }, async () => {
    const alice = await createAccount(store, { email: "alice@example.com" });
    const digests: string[] = [];
    for (let i = 0; i < 4; i++) digests.push((await deliverMessage(store, { recipients: ["alice@example.com"], bytes: mime(`message ${i}`) })).digest);

    const submitted = await submitBackup({ server: "mail1", type: "full", accounts: "all", requestedBy: "test", excludeBlobs: true });
    const session = await waitFor(async () => {
      const s = await prisma().backupSession.findUniqueOrThrow({ where: { id: submitted.sessionId } });
      return !["queued", "running"].includes(s.status) && s;
    }, submitted.label);
    expect(session).toMatchObject({ status: "completed", excludeBlobs: true, blobsNew: 0, phase: "publishing" });
    expect(session.phaseStartedAt!.getTime()).toBeGreaterThanOrEqual(session.startedAt!.getTime()); // the last of its four phases, timed
    const target = new BackupTarget((await getServer("mail1")).backupTarget, "mail1");
    expect(await target.readSessionJson(submitted.label)).toMatchObject({ excludeBlobs: true });
    for (const d of digests) expect(await target.hasBlob(d)).toBe(false);
    const verified = await verifySession(target, submitted.label);
    expect(verified.problems).toEqual([]);
    // A full after it stores the bodies it only named, though alice has not changed since.
    const full = await runBackup("mail1", "full");
    expect((await target.readSessionJson<{ accounts: { email: string; dumpsFrom?: string }[] }>(full.label))!.accounts.find((a) => a.email === "alice@example.com")!.dumpsFrom).toBe(submitted.label);
    const repo = await target.repository({ reload: true });
    for (const d of digests) expect(repo.has(d), d).toBe(true);

    // The bodies are on the volume: a copy restores from the metadata-only full, and says so.
    const request = { server: "mail1", accounts: ["alice@example.com"], label: submitted.label, noRedo: true, copy: true, prefix: "restore_" };
    const { plan } = await planFromInput(request);
    expect(plan.warnings).toContain(`alice@example.com: ${submitted.label} holds metadata only (backup --exclude-blobs); its 4 message bodies come from the blob volume, where they all are`);
    const restored = await runRestore(request);
    await restoresSettled();
    const copy = await prisma().account.findFirstOrThrow({ where: { email: "restore_alice@example.com" } });
    expect(await exportMailbox(store, { accountId: copy.id })).toEqual(await exportMailbox(store, { accountId: alice.accountId }));
    expect(restored.plan.accounts[0]!.snapshot!.session).toBe(submitted.label);

    // A body gone from the volume: refused, nothing queued.
    await rm(store.blobs.path(digests[0]!));
    const runs = await prisma().restoreRun.count();
    const again = { ...request, prefix: "again_" };
    await expect(planFromInput(again)).rejects.toThrow(
      `alice@example.com: ${submitted.label} holds metadata only (backup --exclude-blobs), and 1 of the 4 message bodies it needs are not on the blob volume: restore from a full that holds them (-lb <label>), or put the bodies back on the volume first`,
    );
    expect(await prisma().restoreRun.count()).toBe(runs);
    // --exclude-blobs on the restore says the bodies are known to be there: the planner does not look.
    await expect(planFromInput({ ...again, excludeBlobs: true })).resolves.toMatchObject({ plan: { accounts: [{ snapshot: { session: submitted.label } }] } });
  });
});
