import { describe, expect, it } from "vitest";
import { checkEntry, checkSchedule, defaultSchedule, formatEntry, parseEntryArgs } from "./schedule-entry.ts";
import { scheduleWarnings } from "./schedule-warnings.ts";

const monday = new Date("2026-11-23T12:00:00Z");

describe("parseEntryArgs (zmschedulebackup's argument list)", () => {
  it("reads quoted patterns, ages and letters", () => {
    expect(parseEntryArgs(["f", "0 1 * * 7", "i", "0 1 * * 1-6", "d", "1m", "0 0 * * *"])).toEqual([
      { type: "full", pattern: "0 1 * * 7" },
      { type: "incremental", pattern: "0 1 * * 1-6" },
      { type: "retention", pattern: "0 0 * * *", age: "1m" },
    ]);
    expect(parseEntryArgs(["a", "0 1 * * *"])).toEqual([{ type: "auto_grouped", pattern: "0 1 * * *" }]);
  });

  it("takes an unquoted pattern as five words", () => {
    expect(parseEntryArgs(["f", "0", "1", "*", "*", "6", "d", "14d", "0", "0", "*", "*", "*"])).toEqual([
      { type: "full", pattern: "0 1 * * 6" },
      { type: "retention", pattern: "0 0 * * *", age: "14d" },
    ]);
  });

  it("refuses an unknown type, a missing pattern and a bad age", () => {
    expect(() => parseEntryArgs(["x", "0 1 * * *"])).toThrow('unknown schedule entry type "x": use f (full), i (incremental), a (auto-grouped), d <age> (delete) or c <target> (copy)');
    expect(() => parseEntryArgs(["f"])).toThrow(/f needs a cron pattern/);
    expect(() => parseEntryArgs(["d", "0 0 * * *"])).toThrow(/bad age "0 0 \* \* \*" for the retention entry/);
    expect(() => parseEntryArgs(["d", "1q", "0 0 * * *"])).toThrow(/bad age "1q"/);
  });
});

describe("copy entries (c <target>)", () => {
  it("read the target after the letter, quoted or not, and format back the same way", () => {
    expect(parseEntryArgs(["c", "offsite", "0 3 * * *", "c", "tape", "30", "3", "*", "*", "*"])).toEqual([
      { type: "copy", pattern: "0 3 * * *", to: "offsite" },
      { type: "copy", pattern: "30 3 * * *", to: "tape" },
    ]);
    expect(formatEntry({ type: "copy", pattern: "0 3 * * *", tz: "UTC", to: "offsite" })).toBe('c offsite "0 3 * * *"');
  });

  it("name a copy target the server has, and only copy entries name one", () => {
    const entries = [{ type: "c", pattern: "0 3 * * *", to: "offsite" }];
    expect(checkSchedule("mail1", "standard", { entries }, ["offsite"])).toEqual([{ type: "copy", pattern: "0 3 * * *", tz: "UTC", to: "offsite" }]);
    expect(() => checkSchedule("mail1", "standard", { entries }, ["tape"])).toThrow("mail1 has no copy target offsite: its copy targets are tape");
    expect(() => checkSchedule("mail1", "standard", { entries }, [])).toThrow(/add one first \(targets add -s mail1 offsite/);
    expect(() => parseEntryArgs(["c", "0 3 * * *"])).toThrow(/bad target "0 3 \* \* \*" for the copy entry/);
    expect(() => checkEntry({ type: "f", pattern: "0 1 * * 6", to: "offsite" })).toThrow("a target belongs to a c (copy) entry, not to the full backup");
    // A copy never collides with a backup: it starts none.
    expect(scheduleWarnings([{ type: "full", pattern: "0 1 * * *", tz: "UTC" }, { type: "copy", pattern: "0 1 * * *", tz: "UTC", to: "offsite" }, { type: "retention", pattern: "0 0 * * *", tz: "UTC", age: "1m" }], monday)).toEqual([]);
  });
});

describe("verify entries (v all|<N>)", () => {
  it("read an optional scope, all by default, and format back the same way", () => {
    expect(parseEntryArgs(["v", "3", "0 5 * * *", "v", "0 6 * * 0"])).toEqual([
      { type: "verify", pattern: "0 5 * * *", scope: "3" },
      { type: "verify", pattern: "0 6 * * 0" },
    ]);
    expect(checkSchedule("mail1", "standard", { entries: [{ type: "v", pattern: "0 6 * * 0" }] })).toEqual([{ type: "verify", pattern: "0 6 * * 0", tz: "UTC", scope: "all" }]);
    expect(formatEntry({ type: "verify", pattern: "0 5 * * *", tz: "UTC", scope: "3" })).toBe('v 3 "0 5 * * *"');
    expect(() => checkEntry({ type: "v", pattern: "0 5 * * *", scope: "some" })).toThrow(/bad scope "some" for the verify entry/);
    expect(() => checkEntry({ type: "f", pattern: "0 5 * * *", scope: "3" })).toThrow("a scope belongs to a v (verify) or r (drill) entry, not to the full backup");
  });
});

describe("restore drill entries (r [N])", () => {
  it("read an optional account count, 3 by default, and format back the same way", () => {
    expect(parseEntryArgs(["r", "5", "0 4 * * 0", "r", "0 4 * * 3", "r", "0", "4", "*", "*", "1"])).toEqual([
      { type: "drill", pattern: "0 4 * * 0", scope: "5" },
      { type: "drill", pattern: "0 4 * * 3" },
      { type: "drill", pattern: "0 4 * * 1" },
    ]);
    expect(checkSchedule("mail1", "auto_grouped", { entries: [{ type: "r", pattern: "0 4 * * 0" }] })).toEqual([{ type: "drill", pattern: "0 4 * * 0", tz: "UTC", scope: "3" }]);
    expect(formatEntry({ type: "drill", pattern: "0 4 * * 0", tz: "UTC", scope: "5" })).toBe('r 5 "0 4 * * 0"');
    expect(() => checkEntry({ type: "r", pattern: "0 4 * * 0", scope: "21" })).toThrow('bad account count "21" for the restore drill entry: 1 to 20');
    expect(() => parseEntryArgs(["r", "0", "0 4 * * 0"])).toThrow('bad account count "0"');
  });
});

describe("checkEntry", () => {
  it("names the entry a bad pattern belongs to", () => {
    expect(() => checkEntry({ type: "i", pattern: "0 1 * * 9" })).toThrow(/invalid cron pattern "0 1 \* \* 9" for the incremental backup/);
    expect(() => checkEntry({ type: "d", pattern: "0 0 * *", age: "1m" })).toThrow(/for the retention \(delete\) entry/);
  });

  it("checks the zone and the age, and puts ages only on d entries", () => {
    expect(checkEntry({ type: "full", pattern: "0 1 * * 6", tz: "europe/berlin" })).toEqual({ type: "full", pattern: "0 1 * * 6", tz: "Europe/Berlin" });
    expect(checkEntry({ type: "d", pattern: "0 0 * * *", age: "1M" }).age).toBe("1m");
    expect(() => checkEntry({ type: "d", pattern: "0 0 * * *", age: "0d" })).toThrow(/bad age "0d"/);
    expect(() => checkEntry({ type: "d", pattern: "0 0 * * *" })).toThrow(/bad age ""/);
    expect(() => checkEntry({ type: "f", pattern: "0 0 * * *", age: "1m" })).toThrow(/an age belongs to a d \(delete\) entry/);
    expect(() => checkEntry({ type: "f", pattern: "0 0 * * *", tz: "Nowhere/Land" })).toThrow(/unknown time zone "Nowhere\/Land"/);
  });
});

describe("checkSchedule", () => {
  it("gives every entry the request's zone unless it names one", () => {
    const entries = checkSchedule("mail1", "standard", { tz: "Europe/Berlin", entries: [{ type: "f", pattern: "0 1 * * 6" }, { type: "i", pattern: "0 1 * * 0-5", tz: "UTC" }] });
    expect(entries.map((e) => e.tz)).toEqual(["Europe/Berlin", "UTC"]);
  });

  it("refuses what the server's backup mode cannot run, and the same entry twice", () => {
    expect(() => checkSchedule("mail2", "auto_grouped", { entries: [{ type: "i", pattern: "0 1 * * *" }] })).toThrow(/mail2 is auto-grouped: it takes no incremental backups/);
    expect(() => checkSchedule("mail1", "standard", { entries: [{ type: "a", pattern: "0 1 * * *" }] })).toThrow(/mail1 uses standard backups/);
    expect(() => checkSchedule("mail1", "standard", { entries: [{ type: "f", pattern: "0 1 * * 6" }, { type: "full", pattern: "0  1 * * 6" }] })).toThrow(
      'entry 2 repeats entry 1 (f "0 1 * * 6")',
    );
    // The same pattern in another zone is another time: allowed.
    expect(checkSchedule("mail1", "standard", { entries: [{ type: "f", pattern: "0 1 * * 6" }, { type: "f", pattern: "0 1 * * 6", tz: "Asia/Tokyo" }] })).toHaveLength(2);
  });
});

describe("defaultSchedule (zmschedulebackup -D)", () => {
  it("is Zimbra's: full Saturday 01:00, incremental Sunday to Friday 01:00, delete 1m at midnight", () => {
    expect(defaultSchedule("standard").map(formatEntry)).toEqual(['f "0 1 * * 6"', 'i "0 1 * * 0-5"', 'd 1m "0 0 * * *"']);
  });

  it("is an auto-grouped backup every day at 01:00 plus the 1m retention on an auto-grouped server", () => {
    expect(defaultSchedule("auto_grouped", "Europe/Berlin").map(formatEntry)).toEqual(['a "0 1 * * *" Europe/Berlin', 'd 1m "0 0 * * *" Europe/Berlin']);
  });
});

describe("scheduleWarnings", () => {
  it("has nothing to say about the defaults", () => {
    expect(scheduleWarnings(defaultSchedule("standard"), monday)).toEqual([]);
    expect(scheduleWarnings(defaultSchedule("auto_grouped"), monday)).toEqual([]);
  });

  it("points out backups that start together (Zimbra's own -A f example on top of the defaults)", () => {
    const entries = [...defaultSchedule("standard"), { type: "full" as const, pattern: "0 1 * * 4", tz: "UTC" }];
    expect(scheduleWarnings(entries, monday)).toEqual([
      'entries 2 (i "0 1 * * 0-5") and 4 (f "0 1 * * 4") both start a backup at 2026-11-26 01:00 Thu UTC: only one runs, the other finds a backup in progress and is skipped',
    ]);
  });

  it("sees the same instant written in two zones", () => {
    const entries = [
      { type: "full" as const, pattern: "0 1 * * 6", tz: "Europe/Berlin" },
      { type: "incremental" as const, pattern: "0 0 * * 6", tz: "UTC" },
      { type: "retention" as const, pattern: "0 0 * * *", tz: "UTC", age: "1m" },
    ];
    expect(scheduleWarnings(entries, monday)).toHaveLength(1);
  });

  it("says when nothing is ever deleted, when several ages compete, and when incrementals have no full", () => {
    expect(scheduleWarnings([{ type: "incremental", pattern: "0 1 * * *", tz: "UTC" }], monday)).toEqual([
      "no d (delete) entry: old sessions are never deleted automatically",
      "incrementals but no scheduled full: restores replay ever more redo from each account's last full",
    ]);
    const ages = [...defaultSchedule("standard"), { type: "retention" as const, pattern: "0 3 * * *", tz: "UTC", age: "2w" }];
    expect(scheduleWarnings(ages, monday)).toEqual(["2 d (delete) entries: the shortest age, 2w, decides what is kept"]);
  });
});
