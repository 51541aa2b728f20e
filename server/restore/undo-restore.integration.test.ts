/**
 * Undo of an in-place restore with real workers: a mailbox restored in place to an older point,
 * then undone, is exactly what it was just before the restore (from a full, an incremental's redo
 * and the current log); mail received after the restore is named in the plan; undoing the undo
 * gives back the restored state; the sessions the undo needs are leased and retention keeps them;
 * what cannot be undone is refused and changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { applyRetention } from "../backup/apply-retention.ts";
import { prisma } from "../db/console-db.ts";
import { createAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import { createFolder } from "../mailstore/folder-operations.ts";
import { deleteItems, moveItems, setFlags, tagItems } from "../mailstore/item-operations.ts";
import { INBOX } from "../mailstore/items.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { restoresSettled, runBackup, runRestore, waitForRestore } from "../testing/wait-for-runs.ts";
import { exportMailbox } from "./export-mailbox.ts";
import { getRestoreRun } from "./get-restore-run.ts";
import { undoRestore } from "./undo-restore.ts";

const fx = useMailServer({ workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string) => Buffer.from(`From: boss@example.net\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`);
const deliver = async (to: string, subject: string, folderId?: number) => (await deliverMessage(store, { recipients: [to], bytes: mime(subject), folderId })).delivered[0]!.itemId;

async function undo(label: string) {
  const submitted = await undoRestore({ label, requestedBy: "test" });
  if (submitted.dryRun) throw new Error("expected a run");
  await waitForRestore(submitted);
  await restoresSettled();
  return submitted;
}

describe("undo of an in-place restore", () => {
  it("gives back exactly the state the restore replaced, and undoing the undo gives back the restored one", { timeout: 300_000 }, async () => {
    const alice = await createAccount(store, { email: "alice@example.com" });
    const ref = { accountId: alice.accountId };
    await createAccount(store, { email: "bob@example.com" });
    const { itemId: projects } = await createFolder(store, ref, { name: "Projects", parentId: INBOX });
    const first = await deliver("alice@example.com", "Kick-off", projects);
    await deliver("alice@example.com", "Welcome");
    const full = await runBackup("mail1", "full");

    // After the full: changes held by an incremental, then changes only in the current log.
    const report = await deliver("alice@example.com", "Quarterly report");
    await setFlags(store, ref, { itemIds: [first], flags: { flagged: true, read: true } });
    await tagItems(store, ref, { itemIds: [report], tag: "Finance" });
    await runBackup("mail1", "incremental");
    await moveItems(store, ref, { itemIds: [report], folderId: projects });
    await deleteItems(store, ref, { itemIds: [first] });
    await deliver("alice@example.com", "Lunch on Friday");
    await deliver("bob@example.com", "Bob's memo");
    const beforeRestore = await exportMailbox(store, ref);

    // The wrong restore: alice in place, back to the full alone.
    const restore = await runRestore({ server: "mail1", accounts: ["alice@example.com"], label: full.label, noRedo: true });
    await restoresSettled();
    const restored = await exportMailbox(store, ref);
    expect(restored).not.toEqual(beforeRestore);
    const run = await getRestoreRun(restore.label);
    const marker = (run.result as { restored: { markerSeq: number }[] }).restored[0]!.markerSeq;
    expect((run.result as { undo: string }).undo).toMatch(/^undo possible until \d{4}-/);

    // Mail after the restore: the plan says the undo takes it away too.
    await deliver("alice@example.com", "After the restore");
    const afterRestore = await exportMailbox(store, ref);
    const planned = await undoRestore({ label: restore.label, dryRun: true, requestedBy: "test" });
    if (!planned.dryRun) throw new Error("expected a plan");
    expect(planned.plan.accounts).toMatchObject([{ accountId: alice.accountId, target: { mode: "in-place", email: "alice@example.com" }, redo: { untilSeq: marker - 1 } }]);
    expect(planned.plan.warnings).toContain("changed since the restore and undone with it (mail received after the restore is lost): alice@example.com");

    const undone = await undo(restore.label);
    expect(await exportMailbox(store, ref)).toEqual(beforeRestore);
    expect((await prisma().restoreRun.findUniqueOrThrow({ where: { label: undone.label } })).plan).toMatchObject({ undoOf: restore.label });

    // The undo is an in-place restore like any other: it can be undone in turn.
    await undo(undone.label);
    expect(await exportMailbox(store, ref)).toEqual(afterRestore);
  });

  it("leases what the undo needs, so retention keeps it", async () => {
    const leases = await prisma().sessionLease.findMany({ where: { holder: { startsWith: "undo:" } } });
    expect(leases.length).toBeGreaterThan(0);
    const days = (leases[0]!.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    const retention = await applyRetention("mail1", "0d", { planOnly: true });
    expect(retention.plan.keep.some((k) => /^leased by the undo of restore-/.test(k.reason))).toBe(true);
    expect(retention.plan.remove).toEqual([]);
  });

  it("refuses what cannot be undone, and changes nothing", async () => {
    const copy = await runRestore({ server: "mail1", accounts: ["bob@example.com"], copy: true, prefix: "restore_" });
    await restoresSettled();
    const runs = await prisma().restoreRun.count();
    await expect(undoRestore({ label: copy.label, requestedBy: "test" })).rejects.toThrow(`${copy.label} restored into copies and changed no mailbox: remove the copies instead`);
    await expect(undoRestore({ label: "restore-20991231.000000.000", requestedBy: "test" })).rejects.toThrow("no restore run restore-20991231.000000.000");
    await expect(undoRestore({ label: copy.label, server: "mail2", requestedBy: "test" })).rejects.toThrow(`${copy.label} restored on mail1, not mail2`);
    expect(await prisma().restoreRun.count()).toBe(runs);
  });
});
