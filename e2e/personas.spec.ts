/**
 * The console as its two kinds of users meet it: an admin backs a server up and reads the audit
 * log; a helpdesk user restores one account, found by a former name, into a prefixed copy and
 * looks at what came back, and cannot restore in place.
 */
import { expect, test } from "@playwright/test";
import { fullBackup, signIn, waitForIdle } from "./helpers";
import { ADMIN, HELPDESK } from "./users";

test.describe.configure({ mode: "serial" });
test.use({ storageState: { cookies: [], origins: [] } });

test("an admin signs in, runs a full backup, watches it finish and sees the session", async ({ page }) => {
  await signIn(page, ADMIN);
  await waitForIdle(page.request, "mail1");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("combobox", { name: "Server to back up" }).selectOption("mail1");
  await page.getByRole("button", { name: "Back up now: full" }).click();
  await expect(page.getByRole("group", { name: "Confirm the backup" })).toContainText(/^Full backup of mail1: all \d+ accounts\./);
  await page.getByRole("button", { name: "Start the backup" }).click();
  await expect(page).toHaveURL(/\/sessions\/full-\d{8}\.\d{6}\.\d{3}\?server=mail1/);
  await expect(page.getByRole("progressbar").or(page.getByText("completed", { exact: true }))).toBeVisible();
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole("table", { name: "Session accounts" })).toContainText("carol.white@example.com");
  await expect(page.getByRole("link", { name: "Restore from this session" })).toBeVisible();
  await page.screenshot({ path: "test-results/admin-session.png", fullPage: true });
});

test("a helpdesk user restores an account found by its former name, at a time, into restore_<name>, and sees its mail", async ({ page, browser }) => {
  // The account needs a full backup: the admin's, through the API.
  const admin = await browser.newContext({ storageState: ADMIN.state, baseURL: test.info().project.use.baseURL });
  await fullBackup(admin.request, "mail1", ["carol.white@example.com"]);
  await admin.close();

  await signIn(page, HELPDESK);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restore", exact: true }).click();
  await page.getByRole("searchbox", { name: "Find an account to restore" }).fill("carol.smith");
  const hit = page.getByRole("list", { name: "Matching accounts" }).getByRole("listitem").filter({ hasText: "carol.white@example.com" });
  await expect(hit).toContainText("formerly carol.smith@example.com");
  await hit.getByRole("button", { name: "Choose carol.white@example.com" }).click();

  await expect(page.getByRole("figure", { name: "Restore points" })).toBeVisible();
  await page.getByRole("radio", { name: /A point in time/ }).check();
  const now = new Date().toISOString().slice(0, 19);
  await page.getByLabel("Restore to time (UTC)").fill(now);
  await expect(page.getByRole("radio", { name: /In place/ })).toHaveCount(0);
  await expect(page.getByText("restore_carol.white@example.com")).toBeVisible();
  await page.getByRole("button", { name: "Preview the plan" }).click();
  const plan = page.getByLabel("Restore plan");
  await expect(plan).toContainText("restore_carol.white@example.com");
  await expect(plan).toContainText("new copy");
  await page.screenshot({ path: "test-results/helpdesk-restore-plan.png", fullPage: true });

  await page.getByRole("button", { name: "Run the restore" }).click();
  await expect(page).toHaveURL(/\/restores\/restore-\d{8}\.\d{6}\.\d{3}$/);
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 90_000 });
  await page.screenshot({ path: "test-results/helpdesk-restore-run.png", fullPage: true });
  await page.getByRole("list", { name: "Restored accounts" }).getByRole("link", { name: "restore_carol.white@example.com" }).click();

  await expect(page.getByRole("heading", { name: "restore_carol.white@example.com" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Folders" })).toContainText("Inbox");
  await expect(page.getByRole("table", { name: "Messages" }).getByRole("row").nth(1)).toBeVisible();
  await page.screenshot({ path: "test-results/helpdesk-restored-copy.png", fullPage: true });

  // What the pages do not offer, the API refuses: an in-place restore, crafted by hand.
  const inPlace = await page.request.post("/api/restores", { data: { server: "mail1", accounts: ["carol.white@example.com"] } });
  expect(inPlace.status()).toBe(403);
  expect((await inPlace.json()).error.code).toBe("forbidden");
});

test("the admin reads the audit entries of both", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  const entries = page.getByRole("table", { name: "Audit entries" });
  const backup = entries.getByRole("row").filter({ hasText: ADMIN.email }).filter({ hasText: "backup.start" }).first();
  await expect(backup).toContainText("ok");
  // Where the change came from: the browser's address, as the console's server saw it.
  await expect(backup).toContainText("from 127.0.0.1");
  await page.getByLabel("Who").fill("helpdesk@");
  const restores = entries.getByRole("row").filter({ hasText: "restore.start" });
  await expect(restores.filter({ hasText: "refused" }).first()).toBeVisible();
  // What came of it, in words: the run and the copy it made.
  await expect(restores.filter({ hasText: "ok" }).first()).toContainText(/restore-\d{8}\.\d{6}\.\d{3}: carol.white@example.com -> restore_carol.white@example.com/);
  await page.getByLabel("Outcome").selectOption("refused");
  await expect(entries.getByRole("row").filter({ hasText: "ok" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/admin-audit.png", fullPage: true });
});
