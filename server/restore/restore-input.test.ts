import { describe, expect, it } from "vitest";
import { restoreInput } from "./submit-restore.ts";

describe("restore input", () => {
  it.each([["0x10"], ["1e3"], [true], [" 7"], [1.5], [0], [-1], ["99999999999999999999"]])("refuses %j as a redo sequence number or group", (value) => {
    expect(restoreInput.safeParse({ server: "mail1", restoreToRedoSeq: value }).success).toBe(false);
    expect(restoreInput.safeParse({ server: "mail1", group: value }).success).toBe(false);
  });

  it("takes digits and JSON numbers", () => {
    expect(restoreInput.parse({ server: "mail1", restoreToRedoSeq: "16", group: 2 })).toMatchObject({ restoreToRedoSeq: 16, group: 2 });
  });
});
