import { expect, test } from "@playwright/test";
import { fullBackup } from "./helpers";

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

test("a restore of many mailboxes measures the server's expected recovery time", async ({ page }) => {
  test.setTimeout(180_000);
  const { items } = await (await page.request.get("/api/accounts?server=mail2&status=active&q=example&pageSize=6")).json();
  const accounts = (items as { email: string }[]).map((a) => a.email).filter((e) => !e.includes("_")).slice(0, 5);
  expect(accounts).toHaveLength(5);
  await fullBackup(page.request, "mail2", accounts);
  const started = await page.request.post("/api/restores", { data: { server: "mail2", accounts, copy: true, prefix: "measure_" } });
  expect(started.status()).toBe(202);
  const { label } = await started.json();
  await expect.poll(async () => (await (await page.request.get(`/api/restores/${label}`)).json()).status, { timeout: 120_000, intervals: [500] }).toBe("completed");

  await page.goto("/servers/mail2");
  const recovery = page.getByLabel("Expected recovery time");
  await expect(recovery).toContainText(/Whole server \(\d+ mailboxes\)\s*about \d/);
  await expect(recovery).toContainText(/One mailbox group \(about \d+\)\s*about \d/);
  await expect(recovery).toContainText(`${label} — 5 mailboxes in`);
  await page.screenshot({ path: "test-results/server-recovery.png", fullPage: true });
});

test("a server page lists its backup targets, and Copy now sends its sessions to the copy target, verified", async ({ page }) => {
  test.setTimeout(180_000);
  const { items } = await (await page.request.get("/api/accounts?server=mail1&status=active&q=example&pageSize=1")).json();
  const label = await fullBackup(page.request, "mail1", [(items as { email: string }[])[0]!.email]);
  await page.goto("/servers/mail1");
  const targets = page.getByRole("table", { name: "Backup targets" });
  await expect(targets.getByRole("row").filter({ hasText: "primary" })).toContainText("folder");
  const offsite = targets.getByRole("row").filter({ hasText: "offsite" });
  await expect(offsite).toContainText("copy");
  await offsite.getByRole("button", { name: "Copy now" }).click();
  await offsite.getByRole("link", { name: /^copy job / }).click();
  await expect(page.getByRole("heading", { name: "backup.copy" })).toBeVisible();
  await expect(page.getByLabel("Job log")).toContainText(`${label}: copied to offsite and verified there`, { timeout: 120_000 });
  await page.goto("/servers/mail1");
  await expect(page.getByRole("table", { name: "Backup targets" }).getByRole("row").filter({ hasText: "offsite" })).toContainText(label);
  await page.screenshot({ path: "test-results/server-targets.png", fullPage: true });
});

test("an admin sets a server's report recipients on its page, and a bad address is refused", async ({ page }) => {
  await page.goto("/servers/mail2");
  const card = page.locator("section").filter({ has: page.getByRole("heading", { name: "Report mails" }) });
  await expect(card).toContainText("off: MAILVAULT_SMTP_URL is not set");
  await card.getByRole("button", { name: "Change recipients" }).click();
  await card.getByRole("textbox", { name: "Report recipients" }).fill("ops@example.com, not an address");
  await card.getByRole("button", { name: "Save recipients" }).click();
  await expect(card.getByRole("alert")).toContainText("each recipient is an email address");
  await card.getByRole("textbox", { name: "Report recipients" }).fill("ops@example.com, oncall@example.com");
  await card.getByRole("button", { name: "Save recipients" }).click();
  await expect(card).toContainText("ops@example.com, oncall@example.com (this server's own)");
  await page.screenshot({ path: "test-results/server-reports.png", fullPage: true });
  await page.request.patch("/api/servers/mail2", { data: { reportTo: [] } });
});
