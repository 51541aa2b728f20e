import { describe, expect, it } from "vitest";
import type { AccountBackup } from "../backup/backup-account.ts";
import { backupLines } from "./job-log-lines.ts";

function dumped(email: string, extra: Partial<AccountBackup> = {}): AccountBackup {
  return {
    accountId: `id-${email}`, email, reason: "new account", mailboxId: 1, changeNumber: 5, lastRedoSeq: 9, snapshotAt: "2026-12-06T08:00:00Z",
    items: 12, messages: 10, blobs: 10, blobBytes: 2048, newBlobs: 0, newBlobBytes: 0, missingBlobs: [], fingerprint: "f", files: [], ...extra,
  };
}

describe("backupLines", () => {
  it("gives dumped, failed and skipped accounts a line each and unchanged ones one line together", () => {
    const accounts = ["a@x", "b@x", "c@x", "d@x", "e@x", "f@x"].map((email) => ({ accountId: `id-${email}`, email }));
    const lines = backupLines(
      [
        dumped("a@x", { newBlobs: 3 }),
        dumped("b@x", { dumpsFrom: "full-1" }),
        dumped("c@x", { dumpsFrom: "full-1" }),
        // Named from an earlier full, but with bodies missing from the volume: worth its own line.
        dumped("d@x", { dumpsFrom: "full-2", missingBlobs: ["ab"] }),
        { accountId: "id-e@x", email: "e@x", error: "disk full" },
        { accountId: "id-f@x", skipped: "account deleted" },
      ],
      accounts,
    );
    expect(lines).toEqual([
      "a@x: full snapshot (new account), 12 items, 2.0 KiB, 3 new blob(s)",
      "d@x: full snapshot (new account), 12 items, 2.0 KiB, 0 new blob(s); 1 blob(s) missing from the volume",
      "e@x: failed: disk full",
      "f@x: skipped (account deleted)",
      "2 account(s) unchanged since full-1: their dumps named, not written again",
    ]);
  });

  it("writes no unchanged line when every account was dumped", () => {
    expect(backupLines([dumped("a@x")], [{ accountId: "id-a@x", email: "a@x" }])).toEqual(["a@x: full snapshot (new account), 12 items, 2.0 KiB, 0 new blob(s)"]);
  });
});
