import { expect, test } from "@playwright/test";

test("an admin backs up a server from the console, watches it finish and reads the session", async ({ page }) => {
  await page.goto("/sessions");
  // The page's server filter chooses the server the button backs up.
  await page.getByRole("combobox", { name: "Server", exact: true }).selectOption("mail2");
  await expect(page.getByRole("combobox", { name: "Server to back up" })).toHaveCount(0);
  await page.getByRole("button", { name: "Back up now: auto-grouped run" }).click();
  await expect(page.getByRole("group", { name: "Confirm the backup" })).toContainText(/^Auto-grouped run on mail2: about \d+ of \d+ accounts in full/);
  await page.getByRole("button", { name: "Start the backup" }).click();
  await expect(page).toHaveURL(/\/sessions\/full-\d{8}\.\d{6}\.\d{3}\?server=mail2/);
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 60_000 });
  const accounts = page.getByRole("table", { name: "Session accounts" });
  await expect(accounts).toContainText("full snapshot");
  // A renamed account is found in the session by its old name too.
  await page.getByRole("searchbox", { name: "Search accounts in this session" }).fill("daniel.brown");
  await expect(accounts.getByRole("row")).toHaveCount(2);
  await expect(accounts).toContainText("dan.brown@example.org");
  await page.screenshot({ path: "test-results/session-detail.png", fullPage: true });

  await page.goto("/sessions");
  const row = page.getByRole("table", { name: "Sessions" }).getByRole("row").filter({ hasText: "mail2" }).first();
  await expect(row).toContainText("completed");
  await page.screenshot({ path: "test-results/sessions.png", fullPage: true });
  await page.goto("/");
  await expect(page.getByText(/Last full: \d{4}-\d{2}-\d{2}/)).toBeVisible();
});

test("a second backup while one runs is refused with a clear message", async ({ request }) => {
  const first = await request.post("/api/backups", { data: { server: "mail1", type: "full" } });
  expect(first.status()).toBe(202);
  const second = await request.post("/api/backups", { data: { server: "mail1", type: "incremental" } });
  expect(second.status()).toBe(409);
  expect((await second.json()).error.message).toBe(`backup in progress: ${(await first.json()).label}`);
  const bad = await request.post("/api/backups", { data: { server: "mail1", type: "weekly" } });
  expect(bad.status()).toBe(400);
});
