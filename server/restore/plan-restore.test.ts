import { describe, expect, it } from "vitest";
import { freeCopyPrefix, planRestore, RestorePlanError, type PlanInputs, type PlanSession, type RestoreRequest } from "./plan-restore.ts";

const T = (h: number) => new Date(Date.UTC(2026, 10, 20, h));
const ALICE = "11111111-1111-4111-8111-111111111111";
const OLD_ALEX = "22222222-2222-4222-8222-222222222222";
const NEW_ALEX = "33333333-3333-4333-8333-333333333333";

function session(label: string, type: "full" | "incremental", hour: number, from: number | null, through: number, fulls: [string, number, number][] = []): PlanSession {
  return {
    label,
    type,
    createdAt: T(hour),
    startedAt: T(hour),
    redoFromSeq: from,
    redoThroughSeq: through,
    fulls: new Map(fulls.map(([id, cn, seq]) => [id, { email: "x@example.com", changeNumber: cn, lastRedoSeq: seq, snapshotAt: new Date(T(hour).getTime() + 60_000) }])),
  };
}

function inputs(overrides: Partial<PlanInputs> = {}): PlanInputs {
  return {
    now: T(23),
    candidates: new Map([
      ["alice@example.com", [{ accountId: ALICE, server: "mail1", currentEmail: "alice@example.com", createdAt: T(0), deletedAt: null, name: { email: "alice@example.com", validFrom: T(0), validTo: null } }]],
      [
        "alex@example.com",
        [
          { accountId: OLD_ALEX, server: "mail1", currentEmail: "alex@example.com", createdAt: T(0), deletedAt: T(9), name: { email: "alex@example.com", validFrom: T(0), validTo: T(9) } },
          { accountId: NEW_ALEX, server: "mail1", currentEmail: "alex@example.com", createdAt: T(12), deletedAt: null, name: { email: "alex@example.com", validFrom: T(12), validTo: null } },
        ],
      ],
    ]),
    sessions: [
      session("full-1", "full", 1, null, 100, [[ALICE, 10, 90], [OLD_ALEX, 5, 80]]),
      session("incr-2", "incremental", 6, 101, 200),
      session("full-3", "full", 10, 201, 300, [[ALICE, 30, 290]]),
      session("incr-4", "incremental", 14, 301, 400, [[NEW_ALEX, 2, 350]]),
      session("incr-5", "incremental", 18, 401, 500),
    ],
    archive: { segments: [{ firstSeq: 401, lastSeq: 450 }, { firstSeq: 451, lastSeq: 520 }, { firstSeq: 521, lastSeq: 600 }], lastArchivedSeq: 600 },
    currentLog: { firstSeq: 601, lastSeq: 640 },
    liveEmails: new Set(["alice@example.com", "alex@example.com", "restore_taken@example.com"]),
    ...overrides,
  };
}

const request = (r: Partial<RestoreRequest>): RestoreRequest => ({ server: "mail1", accounts: ["alice@example.com"], ...r });

function refusal(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestorePlanError) return error.reasons;
    throw error;
  }
  throw new Error("not refused");
}

describe("planRestore", () => {
  it("names an account chosen by its id (as the console does) by its email, also in refusals", () => {
    const byId = inputs();
    byId.candidates.set(OLD_ALEX, [{ ...byId.candidates.get("alex@example.com")![0]! }]);
    const plan = planRestore(byId, request({ accounts: [OLD_ALEX], copy: true, prefix: "r_", restoreToTime: T(8) }));
    expect(plan.accounts[0]).toMatchObject({ requested: "alex@example.com", accountId: OLD_ALEX, chosenBecause: "its current name", target: { email: "r_alex@example.com" } });
    expect(plan.point.description).toBe("the time given");
    expect(refusal(() => planRestore(byId, request({ accounts: [OLD_ALEX], restoreToTime: T(0) })))).toEqual([expect.stringMatching(/^no full backup of alex@example.com /)]);
  });

  it("restores to the latest change from the newest full, its later sessions, the archive and the current log", () => {
    expect(planRestore(inputs(), request({ copy: true, prefix: "restore_" }))).toMatchSnapshot();
  });

  it("picks the newest full at or before a time and only the sessions it needs", () => {
    const plan = planRestore(inputs(), request({ restoreToTime: T(8) }));
    const a = plan.accounts[0]!;
    expect(a.snapshot?.session).toBe("full-1");
    expect(a.redo.sessions.map((s) => s.label)).toEqual(["incr-2", "full-3"]);
    expect(a.redo.archive).toBeNull();
    expect(a.redo.currentLog).toBe(false);
    expect(a.redo.untilTime).toBe(T(8).toISOString());
  });

  it("stops at an incremental label and at the earliest of several points", () => {
    const byLabel = planRestore(inputs(), request({ restoreToIncrLabel: "incr-4" })).accounts[0]!;
    expect(byLabel.snapshot?.session).toBe("full-3");
    expect(byLabel.redo).toMatchObject({ sessions: [{ label: "incr-4" }], archive: null, currentLog: false, untilSeq: 400 });
    const both = planRestore(inputs(), request({ restoreToIncrLabel: "incr-5", restoreToRedoSeq: 350 }));
    expect(both.point).toMatchObject({ seq: 350, description: "redo sequence and incremental label (the earliest wins)" });
    expect(both.warnings).toContain("several restore points were given: replay stops at whichever comes first");
  });

  it("resolves a reused name by the time asked for, and says which account it chose", () => {
    const before = planRestore(inputs(), request({ accounts: ["alex@example.com"], restoreToTime: T(7), copy: true, prefix: "restore_" })).accounts[0]!;
    expect(before.accountId).toBe(OLD_ALEX);
    expect(before.chosenBecause).toMatch(/belonged to 2 accounts over time; at the point it was 22222222/);
    const now = planRestore(inputs(), request({ accounts: ["alex@example.com"], copy: true, prefix: "restore_" })).accounts[0]!;
    expect(now.accountId).toBe(NEW_ALEX);
    expect(now.snapshot?.session).toBe("incr-4");
  });

  it("refuses contradictions, all reasons at once, before anything runs", () => {
    expect(refusal(() => planRestore(inputs(), request({ copy: true, noRedo: true, backupOnlyRedo: true })))).toEqual([
      "-ca (restore into a copy) needs -pre <prefix> to name the copy",
      "-rf replays no redo and -br replays only backed-up redo: choose one",
    ]);
    expect(refusal(() => planRestore(inputs(), request({ prefix: "r_" })))).toEqual(["-pre <prefix> names a copy: add -ca, or leave out -pre to restore in place"]);
    expect(refusal(() => planRestore(inputs(), request({ noRedo: true, restoreToTime: T(20) })))).toEqual([
      "-rf replays nothing, but the restore point is after full-3's snapshot of alice@example.com: drop -rf or the point",
    ]);
    expect(refusal(() => planRestore(inputs(), request({ accounts: ["alex@example.com"], restoreToTime: T(11) }))).at(0)).toMatch(/did not exist yet|no full backup/);
    expect(refusal(() => planRestore(inputs(), request({ label: "full-3", restoreToIncrLabel: "incr-2" })))).toContain("incr-2 is not after full-3, the full backup of alice@example.com it would build on");
    expect(refusal(() => planRestore(inputs(), request({ accounts: ["taken@example.com"], copy: true, prefix: "restore_" })))).toEqual(["no account has ever been named taken@example.com"]);
    expect(refusal(() => planRestore(inputs({ candidates: new Map([["taken@example.com", inputs().candidates.get("alice@example.com")!.map((c) => ({ ...c, name: { ...c.name, email: "taken@example.com" } }))]]) }), request({ accounts: ["taken@example.com"], copy: true, prefix: "restore_" })))).toEqual([
      "restore_taken@example.com already exists: choose another prefix or remove that account",
    ]);
    // A prefix that differs only in case names the same copy: refused now, not when the run starts.
    expect(refusal(() => planRestore(inputs({ candidates: new Map([["taken@example.com", inputs().candidates.get("alice@example.com")!.map((c) => ({ ...c, name: { ...c.name, email: "taken@example.com" } }))]]) }), request({ accounts: ["taken@example.com"], copy: true, prefix: "Restore_" })))).toEqual([
      "restore_taken@example.com already exists: choose another prefix or remove that account",
    ]);
    expect(refusal(() => planRestore(inputs(), request({ restoreToIncrLabel: "full-3" })))).toEqual(["full-3 is a full backup, not an incremental: use -lb for a full"]);
  });

  it("proposes a free prefix when the only trouble is a copy name already taken", () => {
    const taken = new Map([["taken@example.com", inputs().candidates.get("alice@example.com")!.map((c) => ({ ...c, name: { ...c.name, email: "taken@example.com" } }))]]);
    const liveEmails = new Set([...inputs().liveEmails, "restore2_taken@example.com"]);
    const thrown = (() => {
      try {
        planRestore(inputs({ candidates: taken, liveEmails }), request({ accounts: ["taken@example.com"], copy: true, prefix: "restore_" }));
      } catch (error) {
        return error as RestorePlanError;
      }
    })();
    expect(thrown?.suggestedPrefix).toBe("restore3_");
    expect(freeCopyPrefix("restore_", ["a@x.org"], new Set(Array.from({ length: 8 }, (_, i) => `restore${i + 2}_a@x.org`)), new Date("2026-12-03T14:52:00Z"))).toBe("restore-20261203_");
  });

  it("refuses a gap in the redo, or replays around it with --ignoreRedoErrors and says so", () => {
    const holed = inputs({ archive: { segments: [{ firstSeq: 401, lastSeq: 450 }, { firstSeq: 521, lastSeq: 600 }], lastArchivedSeq: 600 } });
    expect(refusal(() => planRestore(holed, request({})))).toEqual(["gap in redo sequence: missing 501 through 520 (alice@example.com); --ignoreRedoErrors replays around it and reports it"]);
    const around = planRestore(holed, request({ ignoreRedoErrors: true }));
    expect(around.accounts[0]!.gaps).toEqual([{ from: 501, to: 520 }]);
    expect(around.warnings).toContain("alice@example.com: gap in redo sequence: missing 501 through 520; replayed around it");
  });

  it("warns about options that change nothing in this plan", () => {
    const plan = planRestore(inputs(), request({ noRedo: true, skipDeletes: true, ignoreRedoErrors: true, continueOnError: true, skipDeletedAccounts: true }));
    expect(plan.warnings).toEqual([
      "--skipDeletes has no effect: no redo is replayed",
      "--ignoreRedoErrors has no effect: the redo has no gap",
      "-c has no effect with a single account",
      "--skipDeletedAccounts has no effect: none of the accounts is deleted",
    ]);
    const br = planRestore(inputs(), request({ backupOnlyRedo: true }));
    expect(br.accounts[0]!.redo).toMatchObject({ archive: null, currentLog: false });
    expect(br.warnings[0]).toMatch(/-br replays only backed-up redo, through 500/);
  });

  it("builds an account with no full backup from redo alone when the redo holds its creation, and says so", () => {
    const BOB = "44444444-4444-4444-8444-444444444444";
    const bob = { accountId: BOB, server: "mail1", currentEmail: "bob@example.com", createdAt: T(15), deletedAt: null, name: { email: "bob@example.com", validFrom: T(15), validTo: null } };
    const withBob = (creation?: { seq: number; at: Date; quotaBytes: number }) =>
      inputs({ candidates: new Map([...inputs().candidates, ["bob@example.com", [bob]]]), creations: new Map(creation ? [[BOB, creation]] : []) });
    const created = { seq: 420, at: T(15), quotaBytes: 1000 };

    const plan = planRestore(withBob(created), request({ accounts: ["bob@example.com"] }));
    const a = plan.accounts[0]!;
    expect(a.snapshot).toBeNull();
    expect(a.fromCreate).toEqual({ seq: 420, at: T(15).toISOString(), quotaBytes: 1000 });
    // incr-5 holds 401..500, so it is replayed from the creation on, then the archive and the log.
    expect(a.redo).toMatchObject({ sessions: [{ label: "incr-5", fromSeq: 401, throughSeq: 500 }], archive: { afterSeq: 500, throughSeq: 600 }, currentLog: true });
    expect(plan.warnings).toContain("bob@example.com: no full backup at or before the point; rebuilt from redo alone, from its creation (redo 420) on");

    // Not held any more (or never looked for): refused, or skipped with -c, as before.
    expect(refusal(() => planRestore(withBob(), request({ accounts: ["bob@example.com"] })))).toEqual([
      "no full backup of bob@example.com at or before the restore point, and the redo no longer holds its creation",
    ]);
    expect(planRestore(withBob(), request({ accounts: ["bob@example.com", "alice@example.com"], continueOnError: true })).skipped).toEqual([
      {
        requested: "bob@example.com",
        reason: "no full backup of bob@example.com at or before the restore point, and the redo no longer holds its creation",
        accountId: BOB,
        unrestorable: true,
      },
    ]);
    // -rf replays nothing, so redo alone cannot build it; -lb names a full that does not hold it.
    expect(refusal(() => planRestore(withBob(created), request({ accounts: ["bob@example.com"], noRedo: true }))).at(0)).toMatch(/^no full backup of bob@example.com at or before the restore point$/);
    expect(refusal(() => planRestore(withBob(created), request({ accounts: ["bob@example.com"], label: "full-3" })))).toEqual(["full-3 holds no full backup of bob@example.com"]);
    // A gap after the creation is a gap, as for any account.
    const holed = withBob(created);
    holed.archive = { segments: [{ firstSeq: 521, lastSeq: 600 }], lastArchivedSeq: 600 };
    expect(refusal(() => planRestore(holed, request({ accounts: ["bob@example.com"] })))).toEqual([
      "gap in redo sequence: missing 501 through 520 (bob@example.com); --ignoreRedoErrors replays around it and reports it",
    ]);
    // A creation after the redo sequence asked for: nothing to build.
    expect(refusal(() => planRestore(withBob(created), request({ accounts: ["bob@example.com"], restoreToRedoSeq: 410 }))).at(0)).toMatch(/^no full backup of bob/);
  });
});
