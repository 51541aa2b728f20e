import { describe, expect, it } from "vitest";
import { personName } from "./names.ts";
import { accountId } from "./seed-demo.ts";

describe("demo data", () => {
  it("gives 100k distinct people, so a large seed has no clashing names", () => {
    const names = new Set(Array.from({ length: 100_000 }, (_, i) => personName(i).localpart));
    expect(names.size).toBe(100_000);
  });

  it("derives a stable, well-formed uuid per account key", () => {
    const id = accountId("generated-7");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(accountId("generated-7")).toBe(id);
    expect(accountId("generated-8")).not.toBe(id);
  });
});
