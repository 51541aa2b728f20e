import { describe, expect, it } from "vitest";
import { checkCronPattern, checkTimeZone, nextRuns, runsBetween } from "./cron.ts";
import { describeCron } from "./describe-cron.ts";

const monday = new Date("2026-11-23T12:00:00Z");

describe("checkCronPattern", () => {
  it("accepts crontab's five fields, with names and 7 for Sunday, and tidies the spacing", () => {
    expect(checkCronPattern("  0 1  * * 6 ", "the full backup")).toBe("0 1 * * 6");
    expect(checkCronPattern("0 1 * * mon-fri", "x")).toBe("0 1 * * mon-fri");
    expect(checkCronPattern("0 1 * jul sun", "x")).toBe("0 1 * jul sun");
    expect(checkCronPattern("0 1 * * 7", "x")).toBe("0 1 * * 7");
    expect(checkCronPattern("*/15 * * * *", "x")).toBe("*/15 * * * *");
  });

  it("says which entry a bad pattern was for and what is wrong with it", () => {
    expect(() => checkCronPattern("0 25 * * *", "the full backup")).toThrow('invalid cron pattern "0 25 * * *" for the full backup: Constraint error, got value 25 expected range 0-23');
    expect(() => checkCronPattern("0 1 * *", "the incremental backup")).toThrow(/for the incremental backup: expected 5 fields .* got 4/);
    expect(() => checkCronPattern("0 0 1 * * *", "x")).toThrow(/got 6/);
    expect(() => checkCronPattern("61 1 * * *", "x")).toThrow(/got value 61 expected range 0-59/);
    expect(() => checkCronPattern("0 1 * * 8", "x")).toThrow(/expected range 0-7/);
    expect(() => checkCronPattern("a b c d e", "x")).toThrow(/"a" is not crontab syntax/);
  });

  it("refuses cron-parser's extensions and patterns that never run", () => {
    expect(() => checkCronPattern("H 1 * * *", "x")).toThrow(/"H" is not crontab syntax/);
    expect(() => checkCronPattern("0 1 * * 5L", "x")).toThrow(/"5L" is not crontab syntax/);
    expect(() => checkCronPattern("0 1 ? * 6", "x")).toThrow(/"\?" is not crontab syntax/);
    expect(() => checkCronPattern("0 1 * * 1#2", "x")).toThrow(/"1#2" is not crontab syntax/);
    expect(() => checkCronPattern("0 0 31 2 *", "x")).toThrow(/it never runs/);
  });
});

describe("checkTimeZone", () => {
  it("accepts IANA names in their canonical case, and refuses the rest", () => {
    expect(checkTimeZone("UTC")).toBe("UTC");
    expect(checkTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(checkTimeZone("America/New_York")).toBe("America/New_York");
    expect(() => checkTimeZone("Mars/Olympus")).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => checkTimeZone("GMT+1")).toThrow(/unknown time zone/);
    expect(() => checkTimeZone(" ")).toThrow(/time zone is empty/);
  });
});

describe("nextRuns", () => {
  it("gives the next runs strictly after now, in the entry's zone and in UTC", () => {
    expect(nextRuns("0 1 * * 6", "Europe/Berlin", 3, monday)).toEqual([
      { at: "2026-11-28T00:00:00.000Z", local: "2026-11-28 01:00 Sat" },
      { at: "2026-12-05T00:00:00.000Z", local: "2026-12-05 01:00 Sat" },
      { at: "2026-12-12T00:00:00.000Z", local: "2026-12-12 01:00 Sat" },
    ]);
    expect(nextRuns("0 1 * * 0-5", "UTC", 3, monday).map((r) => r.at)).toEqual(["2026-11-24T01:00:00.000Z", "2026-11-25T01:00:00.000Z", "2026-11-26T01:00:00.000Z"]);
    expect(nextRuns("0 12 * * *", "UTC", 1, monday)[0]!.at).toBe("2026-11-24T12:00:00.000Z");
  });

  it("keeps the wall clock across a daylight-saving change", () => {
    const runs = nextRuns("0 1 * * *", "Europe/Berlin", 3, new Date("2026-03-27T12:00:00Z"));
    expect(runs.map((r) => r.local)).toEqual(["2026-03-28 01:00 Sat", "2026-03-29 01:00 Sun", "2026-03-30 01:00 Mon"]);
    expect(runs.map((r) => r.at)).toEqual(["2026-03-28T00:00:00.000Z", "2026-03-29T00:00:00.000Z", "2026-03-29T23:00:00.000Z"]);
  });

  it("lists every run in a window, up to a limit", () => {
    const day = runsBetween("*/15 * * * *", "UTC", monday, new Date(monday.getTime() + 86_400_000));
    expect(day).toHaveLength(95); // 12:15 through 11:45 the next day
    expect(runsBetween("* * * * *", "UTC", monday, new Date(monday.getTime() + 86_400_000), 10)).toHaveLength(10);
  });
});

describe("describeCron", () => {
  it.each([
    ["0 1 * * 6", "Europe/Berlin", "At 01:00, only on Saturday (Europe/Berlin)"],
    ["0 1 * * 0-5", "UTC", "At 01:00, Sunday through Friday (UTC)"],
    ["0 0 * * *", "UTC", "At 00:00 (UTC)"],
    ["0 1 * * 7", "UTC", "At 01:00, only on Sunday (UTC)"],
    ["0 1 * * sun", "UTC", "At 01:00, only on Sunday (UTC)"],
    ["30 2 * * 1,3,5", "UTC", "At 02:30, only on Monday, Wednesday, and Friday (UTC)"],
    ["0 1,13 * * *", "UTC", "At 01:00 and 13:00 (UTC)"],
    ["0 2 1,15 * 1", "UTC", "At 02:00, on day 1 and 15 of the month, and on Monday (UTC)"],
    ["0 3 * 1,7 sat", "UTC", "At 03:00, only on Saturday, only in January and July (UTC)"],
    ["*/15 * * * *", "UTC", "Every 15 minutes (UTC)"],
    ["*/10 * * * 1-5", "UTC", "Every 10 minutes, Monday through Friday (UTC)"],
    ["5,35 8-18 * * *", "UTC", "At 5 and 35 minutes past the hour, between 08:00 and 18:59 (UTC)"],
    ["not a pattern", "UTC", 'at cron "not a pattern" (UTC)'],
  ])("%s in %s reads %s", (pattern, tz, words) => {
    expect(describeCron(pattern, tz)).toBe(words);
  });
});
