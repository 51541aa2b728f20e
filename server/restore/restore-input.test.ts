import { describe, expect, it } from "vitest";
import { createWithFreeLabel, restoreInput } from "./submit-restore.ts";

describe("restore input", () => {
  it.each([["0x10"], ["1e3"], [true], [" 7"], [1.5], [0], [-1], ["99999999999999999999"]])("refuses %j as a redo sequence number or group", (value) => {
    expect(restoreInput.safeParse({ server: "mail1", restoreToRedoSeq: value }).success).toBe(false);
    expect(restoreInput.safeParse({ server: "mail1", group: value }).success).toBe(false);
  });

  it("takes digits and JSON numbers", () => {
    expect(restoreInput.parse({ server: "mail1", restoreToRedoSeq: "16", group: 2 })).toMatchObject({ restoreToRedoSeq: 16, group: 2 });
  });
});

describe("restore labels", () => {
  it("takes the next free millisecond when a label is taken, and gives up on any other error", async () => {
    const taken = new Set<string>();
    const create = async (label: string) => {
      if (taken.has(label)) throw Object.assign(new Error("unique label"), { code: "P2002" });
      taken.add(label);
      return label;
    };
    const labels = await Promise.all(Array.from({ length: 5 }, () => createWithFreeLabel(create)));
    expect(new Set(labels).size).toBe(5);
    for (const label of labels) expect(label).toMatch(/^restore-\d{8}\.\d{6}\.\d{3}$/);
    await expect(createWithFreeLabel(async () => Promise.reject(new Error("database down")))).rejects.toThrow("database down");
  });
});
