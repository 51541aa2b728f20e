/**
 * The helpdesk call, played as the person takes it: "I deleted my Projects folder", from a caller
 * who gives the name he had before a rename. Every click and typed field after sign-in is
 * counted; the task must take at most 8. Then the caller phones back: from the account's page and
 * its recent deletions, a second restore of the same account gets a free copy name proposed
 * instead of a refusal.
 */
import { expect, test, type Page } from "@playwright/test";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import { createFolder } from "../server/mailstore/folder-operations.ts";
import { deleteItems } from "../server/mailstore/item-operations.ts";
import { INBOX } from "../server/mailstore/items.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { fullBackup, signIn } from "./helpers";
import { ADMIN, HELPDESK } from "./users";

test.describe.configure({ mode: "serial" });
test.use({ storageState: { cookies: [], origins: [] } });

const ACCOUNT = "dan.brown@example.org";
const FORMER = "daniel.brown";
const SUBJECTS = ["Offsite planning contract", "Meeting proposal", "Budget 2027"];

/** Opens the wizard for the caller, found by his former name, and picks the Projects deletion. */
async function toTheDeletion(page: Page, act: (step: () => Promise<unknown>) => Promise<void>) {
  await act(() => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restore", exact: true }).click());
  await act(() => page.getByRole("searchbox", { name: "Find an account to restore" }).fill(FORMER));
  const hit = page.getByRole("list", { name: "Matching accounts" }).getByRole("listitem").filter({ hasText: ACCOUNT });
  await expect(hit).toContainText(`formerly ${FORMER}@example.org`);
  await act(() => hit.getByRole("button", { name: `Choose ${ACCOUNT}` }).click());
  await expect(page.getByRole("radio", { name: /Just before a deletion/ })).toBeChecked();
  await act(() => page.getByRole("searchbox", { name: "Search deletions" }).fill("Projects"));
  const entry = page.getByRole("list", { name: "Deletions" }).getByRole("listitem").filter({ hasText: "Folder /Inbox/Projects" });
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText("Folder /Inbox/Projects and its 3 messages deleted");
  await act(() => entry.getByRole("button", { name: "Just before this" }).click());
  await expect(entry).toHaveAttribute("aria-current", "true");
  await expect(page.getByRole("figure", { name: "Restore points" }).getByRole("img", { name: /^Marker at / })).toBeVisible();
  await expect(page.getByLabel("Chosen point")).toContainText("just before folder /Inbox/Projects was deleted");
}

test("a helpdesk user brings back a deleted folder for a renamed caller in at most 8 steps", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const store = await openMailstore("mail2");
  const { itemId: projects } = await createFolder(store, { email: ACCOUNT }, { name: "Projects", parentId: INBOX });
  for (const subject of SUBJECTS) {
    await deliverMessage(store, { recipients: [ACCOUNT], bytes: Buffer.from(`From: boss@example.net\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`), folderId: projects });
  }
  const admin = await browser.newContext({ storageState: ADMIN.state, baseURL: test.info().project.use.baseURL });
  await fullBackup(admin.request, "mail2", [ACCOUNT]);
  await admin.close();
  await deleteItems(store, { email: ACCOUNT }, { itemIds: [projects] });
  await closeMailstores();

  await signIn(page, HELPDESK);
  let steps = 0;
  const act = async (step: () => Promise<unknown>) => {
    steps++;
    await step();
  };
  await toTheDeletion(page, act);
  // The plan button follows the chosen point: no scrolling past the options.
  await act(() => page.getByRole("button", { name: "Plan this restore" }).click());
  const plan = page.getByLabel("Restore plan");
  await expect(plan).toContainText("just before folder /Inbox/Projects was deleted");
  await expect(plan).toContainText(`restore_${ACCOUNT}`);
  await expect(plan).toContainText(/the (1 change|\d+ changes) recorded after that backup, up to that moment|nothing: the backup already stands at that moment/);
  await expect(plan).toContainText(new RegExp(`formerly [^→]*${FORMER}@example\\.org`));
  await page.screenshot({ path: "test-results/helpdesk-call-plan.png", fullPage: true });
  await act(() => page.getByRole("button", { name: "Run the restore" }).click());
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByLabel("Restore plan")).toContainText("just before folder /Inbox/Projects was deleted");
  await expect(page.getByLabel("What this restore does")).toContainText(`into restore_${ACCOUNT}, as of`);
  await expect(page.getByLabel("What this restore does")).toContainText("just before folder /Inbox/Projects was deleted");
  await act(() => page.getByRole("list", { name: "Restored accounts" }).getByRole("link", { name: `restore_${ACCOUNT}` }).click());
  await expect(page.getByRole("heading", { name: `restore_${ACCOUNT}` })).toBeVisible();
  await expect(page.getByRole("table", { name: "Folders" })).toContainText("Projects");
  await expect(page.getByRole("note")).toContainText(`as of`);
  await expect(page.getByRole("note")).toContainText("just before folder /Inbox/Projects was deleted");
  await expect(page.getByRole("note")).toContainText(new RegExp(`\\(formerly [^)]*${FORMER}@example\\.org\\)`));
  console.log(`the helpdesk call took ${steps} clicks and typed fields after sign-in`);
  expect(steps).toBeLessThanOrEqual(8);

  const { items } = await (await page.request.get(`/api/accounts?q=restore_${ACCOUNT}`)).json();
  const copy = items.find((a: { email: string }) => a.email === `restore_${ACCOUNT}`);
  const back = await (await page.request.get(`/api/accounts/${copy.id}/messages?folder=/Inbox/Projects`)).json();
  expect(back.messages.map((m: { subject: string }) => m.subject).sort()).toEqual([...SUBJECTS].sort());
});

test("when the caller phones back, a second restore of the same account gets a free name proposed and completes", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, HELPDESK);
  // This time from the account's page, where its recent deletions are listed.
  const { items } = await (await page.request.get(`/api/accounts?q=${ACCOUNT}`)).json();
  const dan = items.find((a: { email: string }) => a.email === ACCOUNT);
  await page.goto(`/accounts/${dan.id}`);
  const recent = page.getByRole("list", { name: "Recent deletions" }).getByRole("listitem").filter({ hasText: "Folder /Inbox/Projects and its 3 messages deleted" });
  await recent.getByRole("link", { name: "Restore to just before this" }).click();
  await expect(page.getByLabel("Chosen point")).toContainText("just before folder /Inbox/Projects was deleted");
  await expect(page.getByRole("list", { name: "Deletions" }).getByRole("listitem").filter({ hasText: "Folder /Inbox/Projects" })).toHaveAttribute("aria-current", "true");
  await page.getByRole("button", { name: "Preview the plan" }).click();
  const proposal = page.getByRole("status").filter({ hasText: `restore_${ACCOUNT} already exists` });
  await expect(proposal).toBeVisible();
  await proposal.getByRole("button", { name: "Use restore2_ instead" }).click();
  await expect(page.getByLabel("Restore plan")).toContainText(`restore2_${ACCOUNT}`);
  await page.getByRole("button", { name: "Run the restore" }).click();
  await expect(page.getByText("completed", { exact: true })).toBeVisible({ timeout: 90_000 });
  await page.getByRole("list", { name: "Restored accounts" }).getByRole("link", { name: `restore2_${ACCOUNT}` }).click();

  // The helpdesk user removes the copy they made, after typing its name.
  await page.getByRole("button", { name: "Remove this copy…" }).click();
  await page.getByLabel("Type the copy's email to remove it").fill(`restore2_${ACCOUNT}`);
  await page.getByRole("button", { name: "Remove the copy" }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  const after = await (await page.request.get(`/api/accounts?q=restore2_${ACCOUNT}`)).json();
  expect(after.items.filter((a: { email: string; deletedAt: string | null }) => a.email === `restore2_${ACCOUNT}` && !a.deletedAt)).toEqual([]);
});

test("helpdesk cannot remove a copy an admin made, nor an original, and a wrong confirmation changes nothing", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const admin = await browser.newContext({ storageState: ADMIN.state, baseURL: test.info().project.use.baseURL });
  const started = await admin.request.post("/api/restores", { data: { server: "mail2", accounts: [ACCOUNT], copy: true, prefix: "admincopy_" } });
  expect(started.status()).toBe(202);
  const { label } = await started.json();
  await expect.poll(async () => (await (await admin.request.get(`/api/restores/${label}`)).json()).status, { timeout: 90_000, intervals: [500] }).toBe("completed");
  const find = async (email: string) => ((await (await admin.request.get(`/api/accounts?q=${email}`)).json()).items as { id: string; email: string }[]).find((a) => a.email === email)!;
  const adminCopy = await find(`admincopy_${ACCOUNT}`);
  const original = await find(ACCOUNT);
  const ownCopy = await find(`restore_${ACCOUNT}`);

  await signIn(page, HELPDESK);
  const refused = await page.request.delete(`/api/accounts/${adminCopy.id}`, { data: { confirm: adminCopy.email } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.message).toContain("only the copies they made");
  const notACopy = await page.request.delete(`/api/accounts/${original.id}`, { data: { confirm: original.email } });
  expect(notACopy.status()).toBe(400);
  expect((await notACopy.json()).error.code).toBe("not_a_copy");
  const unconfirmed = await page.request.delete(`/api/accounts/${ownCopy.id}`, { data: { confirm: "restore_someone@example.org" } });
  expect(unconfirmed.status()).toBe(400);
  for (const account of [adminCopy, original, ownCopy]) expect((await (await admin.request.get(`/api/accounts/${account.id}`)).json()).account.deletedAt).toBeNull();
  await page.goto(`/accounts/${adminCopy.id}`);
  await expect(page.getByRole("note")).toContainText("A restored copy of");
  await expect(page.getByRole("button", { name: "Remove this copy…" })).toHaveCount(0);
  // Copy-back is an admin's: not offered to helpdesk, even on a copy's page.
  await expect(page.getByRole("link", { name: "Copy back…" })).toHaveCount(0);
  await admin.close();
});

test("a deletion older than the account's oldest full backup says why, and offers no point to restore to", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const email = "erin.new@example.org";
  const store = await openMailstore("mail2");
  await createAccount(store, { email });
  const memo = (await deliverMessage(store, { recipients: [email], bytes: Buffer.from("From: a@example.net\r\nSubject: Old memo\r\n\r\nmemo\r\n") })).delivered[0]!.itemId;
  await deleteItems(store, { email }, { itemIds: [memo] });
  await closeMailstores();
  const admin = await browser.newContext({ storageState: ADMIN.state, baseURL: test.info().project.use.baseURL });
  await fullBackup(admin.request, "mail2", [email]);
  await admin.close();

  await signIn(page, HELPDESK);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restore", exact: true }).click();
  await page.getByRole("searchbox", { name: "Find an account to restore" }).fill(email);
  await page.getByRole("list", { name: "Matching accounts" }).getByRole("button", { name: `Choose ${email}` }).click();
  const entry = page.getByRole("list", { name: "Deletions" }).getByRole("listitem").filter({ hasText: "Old memo" });
  await expect(entry).toContainText("1 message deleted from /Inbox: Old memo");
  await expect(entry).toContainText("Cannot be restored: before the oldest backup of this account");
  await expect(entry.getByRole("button", { name: "Just before this" })).toHaveCount(0);

  // A time typed by hand before the window says why, and offers the earliest time that works.
  await page.getByRole("radio", { name: /A point in time/ }).check();
  await page.getByLabel("Restore to time (UTC)").fill(new Date(Date.now() - 3_600_000).toISOString().slice(0, 19));
  const warning = page.getByRole("alert").filter({ hasText: "Cannot be restored" });
  await expect(warning).toBeVisible();
  await warning.getByRole("button", { name: /^Use \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC instead$/ }).click();
  await expect(warning).toHaveCount(0);
});
