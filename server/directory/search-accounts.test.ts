import { describe, expect, it } from "vitest";
import { searchAccountsInput } from "./search-accounts.ts";

describe("searchAccountsInput", () => {
  it("fills defaults and normalises the query", () => {
    expect(searchAccountsInput.parse({ q: "  Carol.Smith@Example.COM " })).toEqual({ q: "carol.smith@example.com", page: 1, pageSize: 25 });
  });

  it("reads numbers from query strings", () => {
    expect(searchAccountsInput.parse({ page: "3", pageSize: "50" })).toMatchObject({ page: 3, pageSize: 50 });
  });

  it.each([
    [{ page: "-1" }, "page is at least 1"],
    [{ page: "1.5" }, "page is a whole number"],
    [{ pageSize: "100000" }, "pageSize can be at most 200"],
    [{ status: "deleted-ish" }, "Invalid option"],
    [{ q: "x".repeat(321) }, "q is longer than any email address"],
  ])("rejects %j: %s", (input, message) => {
    const result = searchAccountsInput.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toContain(message);
  });
});
