import { describe, expect, it } from "vitest";
import { z } from "zod";
import { auditParams, MAX_PARAM_BYTES, parsedParams } from "./audit.ts";

describe("auditParams", () => {
  it("redacts secrets at any depth and under any spelling", () => {
    const kept = auditParams({ password: "a", nested: { deeper: [{ newPassword: "b", apiKey: "c", token: "d", passwd: "e", passphrase: "f", secret: "g", keep: "h" }] } });
    expect(kept).toEqual({ password: "(redacted)", nested: { deeper: [{ newPassword: "(redacted)", apiKey: "(redacted)", token: "(redacted)", passwd: "(redacted)", passphrase: "(redacted)", secret: "(redacted)", keep: "h" }] } });
  });

  it("stores NUL as U+FFFD, stops at a depth, and caps the size", () => {
    let deep: unknown = {};
    for (let i = 0; i < 50; i++) deep = { d: deep };
    expect(JSON.stringify(auditParams({ text: "a\u0000b", deep }))).toContain("a\uFFFDb");
    expect(JSON.stringify(auditParams({ deep }))).toContain("(nested too deep)");
    const big = auditParams({ list: Array.from({ length: 90 }, () => "x".repeat(1000)) }) as Record<string, string>;
    expect(Object.keys(big)).toEqual(["(truncated)"]);
    expect(big["(truncated)"]).toContain(String(MAX_PARAM_BYTES));
  });
});

describe("parsedParams", () => {
  const schema = z.object({ server: z.string(), full: z.boolean().default(false) });

  it("keeps the input as the schema reads it: defaults in, unknown fields out", () => {
    expect(parsedParams(schema, { server: "mail1", stray: { password: "x" } })).toEqual({ server: "mail1", full: false });
  });

  it("keeps only the known fields of a body that does not parse", () => {
    expect(parsedParams(schema, { server: 5, stray: "x" })).toEqual({ server: 5 });
    expect(parsedParams(schema, null)).toEqual({ "(input)": "not readable as this call's input (null)" });
    expect(parsedParams(schema, [1])).toEqual({ "(input)": "not readable as this call's input (a list)" });
  });
});
