import { expect, test } from "@playwright/test";

test("a server page shows its mailstore and redo log, and archives on demand", async ({ page }) => {
  await page.goto("/servers/mail1");
  const mailstore = page.locator("section").filter({ has: page.getByRole("heading", { name: "Mailstore" }) });
  await expect(mailstore).toContainText(/Mailboxes\s*14\d/);
  const redo = page.locator("section").filter({ has: page.getByRole("heading", { name: "Redo log" }) });
  await expect(redo).toContainText("Current sequence");
  await redo.getByRole("button", { name: "Archive now" }).click();
  await expect(redo).toContainText(/archived: \d+ records|empty: 0 records/);
  await expect(redo).toContainText(/Archive lag\s*0 records/);
  await page.screenshot({ path: "test-results/server-redo.png", fullPage: true });
});

test("an account page shows every name it had and its folders", async ({ page }) => {
  await page.goto("/accounts?q=carol.smith");
  await page.getByRole("link", { name: "carol.white@example.com" }).click();
  await expect(page.getByRole("heading", { name: "carol.white@example.com" })).toBeVisible();
  const names = page.locator("section").filter({ has: page.getByRole("heading", { name: /Names/ }) });
  await expect(names).toContainText("carol.smith@example.com");
  const folders = page.getByRole("table", { name: "Folders" });
  for (const folder of ["Inbox", "Trash", "Sent", "Contacts"]) await expect(folders).toContainText(folder);
  await page.screenshot({ path: "test-results/account-detail.png", fullPage: true });
});
