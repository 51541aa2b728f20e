import { describe, expect, it } from "vitest";
import { can, restoreNeeds } from "./permissions.ts";

describe("permissions", () => {
  it("lets helpdesk read and restore one account into a prefixed copy, nothing else", () => {
    expect(can("helpdesk", "read")).toBe(true);
    expect(can("helpdesk", "restore.copy")).toBe(true);
    for (const p of ["restore.any", "backup.run", "backup.delete", "backup.abort", "schedules.manage", "users.manage", "copyback", "audit.read"] as const) {
      expect(can("helpdesk", p), p).toBe(false);
      expect(can("admin", p), p).toBe(true);
    }
  });

  it("classifies restore requests", () => {
    expect(restoreNeeds({ accounts: ["a@example.com"], copy: true, prefix: "restore_" })).toBe("restore.copy");
    expect(restoreNeeds({ accounts: ["a@example.com"] })).toBe("restore.any");
    expect(restoreNeeds({ accounts: ["a@example.com", "b@example.com"], copy: true, prefix: "r_" })).toBe("restore.any");
    expect(restoreNeeds({ accounts: "all", copy: true, prefix: "r_" })).toBe("restore.any");
    expect(restoreNeeds({ group: 3 })).toBe("restore.any");
  });
});
