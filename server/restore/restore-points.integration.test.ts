/**
 * An account's restore points with real backups: its full snapshot, the incremental after it,
 * the archive and the current log reach now without a gap; a lost archive segment shows as a gap
 * that ends the window; the planner agrees that a point inside the window restores; a deleted
 * account still has its points, ending at its deletion; an account no full holds has none.
 */
import { readdir, rename } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../workers/start-workers.ts";
import { createAccount, deleteAccount } from "../mailstore/account-operations.ts";
import { deliverMessage } from "../mailstore/deliver-message.ts";
import type { Mailstore } from "../mailstore/mailstore.ts";
import { archiveRedo } from "../redo/archive-redo.ts";
import { useMailServer } from "../testing/mail-server-fixture.ts";
import { runBackup } from "../testing/wait-for-runs.ts";
import { restorePoints } from "./restore-points.ts";
import { submitRestore } from "./submit-restore.ts";

const fx = useMailServer({ workers: startWorkers });
let store: Mailstore;
beforeAll(() => void (store = fx.store));

const mime = (subject: string) => Buffer.from(`From: x@example.net\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`);
const deliver = (email: string, subject: string) => deliverMessage(store, { recipients: [email], bytes: mime(subject) });

describe("restore points", () => {
  it("lays out the full, the incremental, the archive and the log up to now, then a lost segment as a gap", async () => {
    const carol = await createAccount(store, { email: "carol@example.com" });
    const dave = await createAccount(store, { email: "dave@example.com" });
    await deliver("carol@example.com", "one");
    const full = await runBackup("mail1", "full");
    await deliver("carol@example.com", "two");
    const incr = await runBackup("mail1", "incremental");
    for (const subject of ["three", "four", "five"]) {
      await deliver("carol@example.com", subject);
      await archiveRedo(store, { force: true, maxBytes: 1, maxAgeSeconds: 1 });
    }
    await deliver("carol@example.com", "six (current log)");

    const points = await restorePoints(carol.accountId);
    expect(points.account).toMatchObject({ id: carol.accountId, email: "carol@example.com", server: "mail1", deletedAt: null });
    expect(points.liveRedoError).toBeNull();
    expect(points.fulls).toEqual([expect.objectContaining({ label: full.label, email: "carol@example.com" })]);
    expect(points.incrementals.map((i) => i.label)).toEqual([incr.label]);
    expect(points.gaps).toEqual([]);
    expect(points.window).toMatchObject({ earliest: points.fulls[0]!.snapshotAt, latestIsNow: true });
    expect(points.currentLog).not.toBeNull();
    const kinds = points.segments.map((s) => s.kind);
    expect(new Set(kinds)).toEqual(new Set(["full", "incremental", "archive", "log"]));
    const times = points.segments.map((s) => Date.parse(s.from));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(points.segments.find((s) => s.kind === "incremental")).toMatchObject({ label: incr.label });

    // The planner agrees: a point inside the window restores without complaint.
    const inside = await submitRestore({ server: "mail1", accounts: ["carol@example.com"], copy: true, prefix: "p_", restoreToRedoSeq: points.window.latestSeq!, dryRun: true });
    expect(inside.dryRun && inside.plan.accounts[0]!.gaps).toEqual([]);

    // An archive segment lost from the middle: the window now ends before it.
    const segments = (await readdir(store.redoArchivePath)).filter((n) => n.startsWith("redo-")).sort();
    const middle = segments.at(-2)!;
    await rename(path.join(store.redoArchivePath, middle), path.join(fx.env.dataDir, middle));
    try {
      const broken = await restorePoints(carol.accountId);
      expect(broken.gaps).toHaveLength(1);
      const gap = broken.gaps[0]!;
      expect(broken.window.latestIsNow).toBe(false);
      expect(broken.window.latestSeq).toBe(gap.fromSeq - 1);
      expect(broken.segments.filter((s) => s.kind === "gap")).toEqual([expect.objectContaining({ fromSeq: gap.fromSeq, toSeq: gap.toSeq })]);
      await expect(submitRestore({ server: "mail1", accounts: ["carol@example.com"], copy: true, prefix: "p_", dryRun: true })).rejects.toThrow(
        `gap in redo sequence: missing ${gap.fromSeq} through ${gap.toSeq}`,
      );
    } finally {
      await rename(path.join(fx.env.dataDir, middle), path.join(store.redoArchivePath, middle));
    }

    // A deleted account keeps its points; they end at its deletion.
    await deleteAccount(store, { accountId: dave.accountId });
    const gone = await restorePoints(dave.accountId);
    expect(gone.fulls.map((f) => f.label)).toEqual([full.label]);
    expect(gone.window.latestIsNow).toBe(false);
    expect(gone.window.latest).toBe(gone.account.deletedAt);

    // No full backup yet: nothing to restore from.
    const erin = await createAccount(store, { email: "erin@example.com" });
    expect((await restorePoints(erin.accountId)).window).toMatchObject({ earliest: null, latest: null, latestIsNow: false });
  });

  it("answers account_not_found for an unknown id", async () => {
    await expect(restorePoints("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({ code: "account_not_found" });
    await expect(restorePoints("not-an-id")).rejects.toMatchObject({ code: "account_not_found" });
  });
});
