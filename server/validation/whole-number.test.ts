import { describe, expect, it } from "vitest";
import { wholeNumber } from "./whole-number.ts";

describe("wholeNumber", () => {
  const limit = wholeNumber("limit", { min: 1, max: 1000 });

  it("takes a JSON number or a query value's digits", () => {
    expect(limit.parse(12)).toBe(12);
    expect(limit.parse("12")).toBe(12);
  });

  it.each([
    ["0x10", "limit is a whole number"],
    ["1e3", "limit is a whole number"],
    [" 7", "limit is a whole number"],
    ["", "limit is a whole number"],
    [true, "limit is a whole number"],
    [1.5, "limit is a whole number"],
    ["-1", "limit is at least 1"],
    [0, "limit is at least 1"],
    ["5000", "limit can be at most 1000"],
  ])("refuses %j: %s", (value, message) => {
    const result = limit.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toBe(message);
  });

  it("says a number past the safe range is too large", () => {
    expect(wholeNumber("seq").safeParse("99999999999999999999").error!.issues[0]!.message).toBe("seq is too large");
  });
});
