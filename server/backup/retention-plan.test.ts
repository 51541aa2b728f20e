import { describe, expect, it } from "vitest";
import { parseAge, planRetention, type RetentionSession } from "./retention-plan.ts";

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 1));
const full = (label: string, day: number, ids = ["a", "b"]): RetentionSession => ({ label, status: "completed", createdAt: at(day), fullAccountIds: ids });
const incr = (label: string, day: number, ids: string[] = []): RetentionSession => ({ label, status: "completed", createdAt: at(day), fullAccountIds: ids });

const labels = (xs: { label: string }[]) => xs.map((x) => x.label);

describe("planRetention", () => {
  const weekly = [full("full-1", 1), incr("incr-2", 2), incr("incr-3", 3), full("full-8", 8), incr("incr-9", 9), incr("incr-10", 10, ["c"]), incr("incr-11", 11)];

  it("removes whole chains older than the cutoff and keeps the full the kept incrementals need", () => {
    const plan = planRetention(weekly, { olderThan: at(9) });
    expect(labels(plan.remove)).toEqual(["full-1", "incr-2", "incr-3"]);
    expect(plan.keep.find((k) => k.label === "full-8")!.reason).toBe("holds the newest full of 2 account(s) that later sessions build on");
  });

  it("keeps the previous full and the redo after it when the cutoff falls inside a chain", () => {
    const plan = planRetention(weekly, { olderThan: at(10) });
    expect(labels(plan.remove)).toEqual(["full-1", "incr-2", "incr-3"]);
    expect(labels(plan.keep)).toEqual(["full-8", "incr-9", "incr-10", "incr-11"]);
  });

  it("keeps a session an undo leases, and every later one, until the lease ends", () => {
    const lease = { label: "incr-2", holder: "the undo of restore-1", expiresAt: at(20) };
    const plan = planRetention(weekly, { olderThan: at(9) }, [lease]);
    expect(labels(plan.remove)).toEqual(["full-1"]);
    expect(plan.keep.find((k) => k.label === "incr-2")!.reason).toBe("leased by the undo of restore-1 until 2026-11-20 01:00 UTC");
    expect(plan.keep.find((k) => k.label === "incr-3")!.reason).toBe("redo between kept full backups and the cutoff");
    // A lease on a session already kept changes nothing.
    expect(labels(planRetention(weekly, { olderThan: at(9) }, [{ ...lease, label: "incr-10" }]).remove)).toEqual(["full-1", "incr-2", "incr-3"]);
  });

  it("reaches back to the oldest full an account still needs (auto-grouped)", () => {
    const rotating = [incr("s1", 1, ["a"]), incr("s2", 2, ["b"]), incr("s3", 3, ["c"]), incr("s4", 4, ["a"]), incr("s5", 5, ["b"])];
    const plan = planRetention(rotating, { olderThan: at(5) });
    // c's newest full is in s3: s3 and everything after stay.
    expect(labels(plan.remove)).toEqual(["s1", "s2"]);
  });

  it("never removes the newest session, even when everything is older than the cutoff", () => {
    const plan = planRetention(weekly, { olderThan: at(30) });
    expect(labels(plan.keep)).toEqual(["full-8", "incr-9", "incr-10", "incr-11"]);
    expect(plan.keep.find((k) => k.label === "incr-11")!.reason).toMatch(/never left without one/);
  });

  it("cuts before a label and drops old failed sessions, keeps running ones", () => {
    const sessions = [...weekly, { label: "full-5", status: "failed", createdAt: at(5), fullAccountIds: [] }, { label: "incr-12", status: "running", createdAt: at(12), fullAccountIds: [] }];
    const plan = planRetention(sessions, { beforeLabel: "full-8" });
    expect(labels(plan.remove)).toEqual(["full-1", "incr-2", "incr-3", "full-5"]);
    expect(plan.keep.find((k) => k.label === "incr-12")!.reason).toBe("still running");
    expect(() => planRetention(sessions, { beforeLabel: "full-99" })).toThrow(/no session full-99/);
  });
});

describe("parseAge", () => {
  const now = new Date("2026-11-22T00:00:00Z");
  it.each([
    ["7d", "2026-11-15T00:00:00.000Z"],
    ["4w", "2026-10-25T00:00:00.000Z"],
    ["1m", "2026-10-22T00:00:00.000Z"],
    ["1y", "2025-11-22T00:00:00.000Z"],
  ])("%s", (text, iso) => expect(parseAge(text, now).toISOString()).toBe(iso));
  it("refuses what it cannot read", () => expect(() => parseAge("7 days", now)).toThrow(/use a number with d, w, m or y/));
});
