/**
 * The admin's tools around a restore: the redo browser's deletion timeline and "Restore to just
 * before this", copy-back from the copy, the job page of a backup, and schedules.
 */
import { expect, test } from "@playwright/test";
import { deleteItems } from "../server/mailstore/item-operations.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { fullBackup } from "./helpers";

const ACCOUNT = "carol.white@example.com";

test("a message deleted after the backup is found in the redo browser, restored to just before its deletion into a copy, and copied back", async ({ page }) => {
  test.setTimeout(120_000);
  await fullBackup(page.request, "mail1", [ACCOUNT]);
  const { items } = await (await page.request.get(`/api/accounts?q=${ACCOUNT}`)).json();
  const carol = items.find((a: { email: string }) => a.email === ACCOUNT);
  const inbox = await (await page.request.get(`/api/accounts/${carol.id}/messages?folder=/Inbox`)).json();
  const message = inbox.messages.find((m: { subject: string | null }) => m.subject);
  // The user deletes a message (through the mailstore's operation API, as their mail client would).
  await deleteItems(await openMailstore("mail1"), { email: ACCOUNT }, { itemIds: [message.id] });
  await closeMailstores();

  await page.goto(`/redo?server=mail1&account=${ACCOUNT}`);
  const entry = page.getByRole("list", { name: "Deletion timeline" }).getByRole("listitem").filter({ hasText: message.subject }).first();
  await expect(entry).toContainText("Items deleted");
  await expect(entry).not.toContainText("DeleteItems");
  await expect(entry).toContainText("from /Inbox");
  await page.screenshot({ path: "test-results/redo-deletions.png", fullPage: true });
  await entry.getByRole("link", { name: "Restore to just before this" }).click();

  await expect(page.getByRole("list", { name: "Chosen accounts" })).toContainText(ACCOUNT);
  await expect(page.getByRole("radio", { name: /Just before a deletion/ })).toBeChecked();
  await expect(page.getByLabel("Chosen point")).toContainText(`just before 1 message was deleted from /Inbox`);
  const seq = Number(await page.getByLabel("Restore through redo sequence").inputValue());
  expect(seq).toBeGreaterThan(0);
  await page.getByLabel("Prefix of the copy").fill("before_");
  await page.getByRole("button", { name: "Preview the plan" }).click();
  await expect(page.getByLabel("Restore plan")).toContainText(`the redo sequence given — redo ${seq}`);
  await expect(page.getByLabel("Restore plan")).toContainText("just before 1 message was deleted from /Inbox");
  await page.screenshot({ path: "test-results/restore-point.png", fullPage: true });
  await page.getByRole("button", { name: "Run the restore" }).click();
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 90_000 });
  await page.getByRole("list", { name: "Restored accounts" }).getByRole("link", { name: `before_${ACCOUNT}` }).click();

  // The copy has the message; copy it back into the original.
  await page.getByRole("link", { name: "Copy back…" }).click();
  await expect(page.getByLabel("Copy into account")).toHaveValue(ACCOUNT);
  await page.getByRole("searchbox", { name: "Search messages" }).fill(message.subject);
  await page.getByRole("checkbox", { name: `Select ${message.subject}` }).first().check();
  await page.getByRole("button", { name: /Copy 1 message\(s\) and 0 folder\(s\) back/ }).click();
  await expect(page.getByRole("status")).toContainText("Copied 1");
  await page.screenshot({ path: "test-results/copy-back.png", fullPage: true });
  const after = await (await page.request.get(`/api/accounts/${carol.id}/messages?folder=/Inbox&q=${encodeURIComponent(message.subject)}`)).json();
  expect(after.messages.map((m: { subject: string }) => m.subject)).toContain(message.subject);
});

test("a backup's job page shows its progress, its per-account jobs and their log lines", async ({ page }) => {
  const label = await fullBackup(page.request, "mail2", ["dan.brown@example.org"]);
  const session = await (await page.request.get(`/api/sessions/${label}?server=mail2`)).json();
  await page.goto(`/jobs/${session.jobId}?server=mail2`);
  await expect(page.getByRole("heading", { name: "backup.start" })).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Accounts backed up" })).toHaveAttribute("aria-valuenow", "100");
  await expect(page.getByLabel("Job log")).toContainText(`${label}: sealed redo through`);
  const related = page.getByRole("table", { name: "Related jobs" });
  await expect(related).toContainText(`${session.jobId}-finish`);
  await expect(related.getByRole("row").filter({ hasText: "accounts 0" })).toContainText("dan.brown@example.org: full snapshot");
  await page.screenshot({ path: "test-results/job-detail.png", fullPage: true });
});

test("an admin applies Zimbra's default schedule and a bad cron pattern is refused without changing it", async ({ page }) => {
  await page.goto("/schedules");
  const mail1 = page.locator("section").filter({ has: page.getByRole("heading", { name: /^mail1/ }) });
  await mail1.getByRole("button", { name: "Apply Zimbra's defaults" }).click();
  await mail1.getByRole("button", { name: "Apply defaults" }).click();
  const table = mail1.getByRole("table", { name: "Schedule of mail1" });
  await expect(table).toContainText("At 01:00, only on Saturday");
  await expect(table).toContainText("0 1 * * 0-5");
  await expect(table.getByRole("row")).toHaveCount(4);
  await mail1.getByRole("button", { name: "Edit" }).click();
  await mail1.getByLabel("Entry 1 cron pattern").fill("0 25 * * 6");
  await mail1.getByRole("button", { name: /Save/ }).click();
  await expect(mail1.getByRole("alert").first()).toContainText('invalid cron pattern "0 25 * * 6"');
  await page.screenshot({ path: "test-results/schedules.png", fullPage: true });
  const stored = await (await page.request.get("/api/schedules/mail1")).json();
  expect(stored.entries.map((e: { pattern: string }) => e.pattern)).toContain("0 1 * * 6");
});

test("an in-place restore is offered to admins only behind a typed confirmation, and undone from its page", async ({ page }) => {
  test.setTimeout(300_000);
  await fullBackup(page.request, "mail1", [ACCOUNT]);
  await page.goto("/restore");
  await page.getByRole("searchbox", { name: "Find an account to restore" }).fill(ACCOUNT);
  await page.getByRole("button", { name: `Choose ${ACCOUNT}` }).click();
  await page.getByRole("radio", { name: /In place/ }).check();
  await page.getByRole("button", { name: "Preview the plan" }).click();
  await expect(page.getByLabel("Restore plan")).toContainText("in place");
  const run = page.getByRole("button", { name: "Run the restore in place" });
  await expect(run).toBeDisabled();
  await page.getByLabel("Type to confirm an in-place restore").fill("carol.white@example.co");
  await expect(run).toBeDisabled();
  await page.getByLabel("Type to confirm an in-place restore").fill(ACCOUNT);
  await expect(run).toBeEnabled();
  await page.screenshot({ path: "test-results/admin-in-place.png", fullPage: true });

  // Run it, then undo it from the run's page: the plan first, then a run of its own.
  await run.click();
  await expect(page).toHaveURL(/\/restores\/restore-/);
  const restored = decodeURIComponent(page.url().split("/restores/")[1]!);
  await expect(page.getByText("completed").first()).toBeVisible({ timeout: 120_000 });
  await page.getByRole("button", { name: "Undo this restore…" }).click();
  const dialog = page.getByRole("dialog", { name: "Undo this restore" });
  await expect(dialog).toContainText(`${ACCOUNT} go back, in place, to the state just before this restore reloaded it`);
  await expect(dialog.getByLabel("Restore plan")).toContainText("in place");
  await page.screenshot({ path: "test-results/admin-undo-plan.png", fullPage: true });
  await dialog.getByRole("button", { name: "Undo the restore" }).click();
  await expect(page).not.toHaveURL(new RegExp(`/restores/${restored.replace(/\./g, "\\.")}$`));
  await expect(page.getByRole("link", { name: restored })).toBeVisible();
  await expect(page.getByText("completed").first()).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole("button", { name: "Undo this restore…" })).toBeVisible();
});

test("an admin runs a restore drill from the server page, reads its evidence, and the dashboard shows it", async ({ page }) => {
  test.setTimeout(300_000);
  await fullBackup(page.request, "mail1", [ACCOUNT]);
  await page.goto("/servers/mail1");
  await page.getByRole("button", { name: "Run a restore drill…" }).click();
  await expect(page.getByRole("group", { name: "Confirm the restore drill" })).toContainText("live accounts are not touched");
  await page.getByRole("button", { name: "Start the drill" }).click();
  await expect(page).toHaveURL(/\/drills\/drill-/);
  const verdict = page.getByLabel("Verdict");
  await expect(verdict).toContainText(/account\(s\) restored identical to the expected state/, { timeout: 180_000 });
  const evidence = page.getByRole("list", { name: "Evidence" });
  await expect(evidence.getByText("identical").first()).toBeVisible();
  await expect(evidence).toContainText("Compared with");
  await page.screenshot({ path: "test-results/drill.png", fullPage: true });
  const label = decodeURIComponent(page.url().split("/drills/")[1]!);

  await page.getByRole("link", { name: "Restore drills" }).click();
  await expect(page.getByRole("table", { name: "Restore drills" })).toContainText(label);
  await page.goto("/");
  await expect(page.getByRole("link", { name: /^passed .* ago/ }).first()).toBeVisible();
});
