import type { JobSchedulerJson } from "bullmq";
import { describe, expect, it } from "vitest";
import { parseServerSettings } from "../directory/server-settings.ts";
import { defaultSchedule } from "./schedule-entry.ts";
import { buildScheduleView } from "./schedule-view.ts";
import { scheduledJob } from "./sync-schedulers.ts";

const now = new Date("2026-11-23T12:00:00Z");
const settings = parseServerSettings({});
const stored = { entries: defaultSchedule("standard", "Europe/Berlin"), updatedAt: now, updatedBy: "admin@example.com" };

function onQueue(entries = stored.entries): JobSchedulerJson[] {
  return [
    ...entries.map((e, i) => {
      const job = scheduledJob(e, i + 1);
      return { key: `schedule:mail1:${i + 1}`, id: `schedule:mail1:${i + 1}`, name: job.name, pattern: e.pattern, tz: e.tz, template: { data: job.data } };
    }),
    { key: "redo-archive:mail1", id: "redo-archive:mail1", name: "redo.archive", every: 15_000, next: now.getTime() + 5_000 },
  ];
}

const base = { server: "mail1", backupMode: "standard" as const, settings, archiveEveryMs: 15_000, now };

describe("buildScheduleView", () => {
  it("shows each entry in words with its next three runs, in its zone and in UTC", () => {
    const view = buildScheduleView({ ...base, stored, schedulers: onQueue() });
    expect(view.entries.map((e) => [e.n, e.text, e.when, e.onQueue])).toEqual([
      [1, 'f "0 1 * * 6" Europe/Berlin', "At 01:00, only on Saturday (Europe/Berlin)", true],
      [2, 'i "0 1 * * 0-5" Europe/Berlin', "At 01:00, Sunday through Friday (Europe/Berlin)", true],
      [3, 'd 1m "0 0 * * *" Europe/Berlin', "At 00:00 (Europe/Berlin)", true],
    ]);
    expect(view.entries[0]!.nextRuns).toEqual([
      { at: "2026-11-28T00:00:00.000Z", local: "2026-11-28 01:00 Sat" },
      { at: "2026-12-05T00:00:00.000Z", local: "2026-12-05 01:00 Sat" },
      { at: "2026-12-12T00:00:00.000Z", local: "2026-12-12 01:00 Sat" },
    ]);
    expect(view.entries[2]!.action).toBe("delete sessions older than 1m (never an account's last full it needs)");
    expect(view.warnings).toEqual([]);
    expect(view.updatedBy).toBe("admin@example.com");
  });

  it("shows the redo-archive cadence the worker keeps", () => {
    const view = buildScheduleView({ ...base, stored: null, schedulers: onQueue([]) });
    expect(view.entries).toEqual([]);
    expect(view.redoArchive).toMatchObject({ schedulerId: "redo-archive:mail1", everyMs: 15_000, onQueue: true, nextAt: "2026-11-23T12:00:05.000Z" });
    expect(view.redoArchive.description).toBe("checked every 15 s by the server's worker; the log is sealed once it holds 100 MiB or its oldest record is 60 s old");
  });

  it("says when the queue is out of step with the stored schedule, or cannot be read", () => {
    const stale = onQueue().map((s) => (s.id === "schedule:mail1:2" ? { ...s, pattern: "0 2 * * 0-5" } : s));
    stale.push({ key: "schedule:mail1:9", id: "schedule:mail1:9", name: "schedule.backup", pattern: "0 3 * * *" });
    const view = buildScheduleView({ ...base, stored, schedulers: stale });
    expect(view.entries.map((e) => e.onQueue)).toEqual([true, false, true]);
    expect(view.queue.stray).toEqual(["schedule:mail1:9"]);
    expect(view.warnings.at(-1)).toMatch(/the queue is out of step with the stored schedule/);

    const down = buildScheduleView({ ...base, stored, schedulers: { error: "connect ECONNREFUSED" } });
    expect(down.queue).toEqual({ ok: false, error: "connect ECONNREFUSED", stray: [] });
    expect(down.entries.every((e) => e.onQueue === null)).toBe(true);
    expect(down.redoArchive.onQueue).toBeNull();
  });

  it("warns when a stored schedule no longer fits the server's backup mode", () => {
    const view = buildScheduleView({ ...base, backupMode: "auto_grouped", stored, schedulers: onQueue() });
    expect(view.warnings[0]).toMatch(/^this schedule no longer fits the server: mail1 is auto-grouped: it takes no incremental backups/);
  });
});
