import { expect, test } from "@playwright/test";

test.describe("accounts search", () => {
  test("finds a renamed account by a former name, under its current name", async ({ page }) => {
    await page.goto("/accounts");
    await page.getByRole("searchbox", { name: "Search accounts" }).fill("daniel.brown");
    const row = page.getByRole("row").filter({ hasText: "dan.brown@example.org" });
    await expect(row).toBeVisible();
    await expect(row).toContainText("formerly daniel.brown@example.org");
    await expect(page).toHaveURL(/q=daniel.brown/);
    await page.screenshot({ path: "test-results/accounts-former-name.png", fullPage: true });
  });

  test("marks a deleted account and keeps the live owner of a reused name apart", async ({ page }) => {
    await page.goto("/accounts?q=alex.jones@example.com");
    const rows = page.getByRole("table", { name: "Accounts" }).getByRole("row").filter({ hasText: "alex.jones@example.com" });
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: /deleted \d{4}-\d{2}-\d{2}/ })).toHaveCount(1);
    await expect(rows.filter({ hasText: "active" })).toHaveCount(1);
  });

  test("pages through the directory", async ({ page }) => {
    await page.goto("/accounts");
    await expect(page.getByText(/^1–25 of \d+$/)).toBeVisible();
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByText(/^26–50 of \d+$/)).toBeVisible();
    await expect(page).toHaveURL(/page=2/);
  });

  test("says so when nothing matches", async ({ page }) => {
    await page.goto("/accounts");
    await page.getByRole("searchbox", { name: "Search accounts" }).fill("nobody-ever-had-this");
    await expect(page.getByText("No account has ever been called “nobody-ever-had-this”")).toBeVisible();
  });
});
