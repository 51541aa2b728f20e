/**
 * Item-level recovery in the browser: the helpdesk user finds a deleted message inside a backup
 * by its subject, opens it (its HTML shown with no script run and no remote image fetched) and
 * restores it into the account's Recovered folder; an admin downloads a folder of the backup as
 * .mbox, and the file's messages are those the backup holds.
 */
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { simpleParser } from "mailparser";
import { createAccount } from "../server/mailstore/account-operations.ts";
import { deliverMessage } from "../server/mailstore/deliver-message.ts";
import { createFolder } from "../server/mailstore/folder-operations.ts";
import { deleteItems } from "../server/mailstore/item-operations.ts";
import { INBOX } from "../server/mailstore/items.ts";
import { closeMailstores, openMailstore } from "../server/mailstore/mailstore.ts";
import { fullBackup } from "./helpers";
import { ADMIN, HELPDESK } from "./users";

test.describe.configure({ mode: "serial" });

const ACCOUNT = "explorer@example.com";
const HOSTILE = [
  "From: Legal <legal@example.net>",
  "To: explorer@example.com",
  "Subject: Contract renewal terms",
  "MIME-Version: 1.0",
  "Content-Type: text/html; charset=utf-8",
  "",
  '<p>The <b>renewal terms</b> are attached.</p><script>parent.document.title = "pwned"; fetch("http://tracker.invalid/s")</script><img src="http://tracker.invalid/pixel.gif" alt="pixel" onerror="parent.document.title=\'pwned\'">',
  "",
].join("\r\n");
const plain = (subject: string) => Buffer.from(`From: team@example.net\r\nTo: ${ACCOUNT}\r\nSubject: ${subject}\r\n\r\n${subject}\r\nFrom the team.\r\n`);

let accountId = "";
let label = "";
let recovered = "";

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  const store = await openMailstore("mail1");
  ({ accountId } = await createAccount(store, { email: ACCOUNT }));
  const { itemId: projects } = await createFolder(store, { accountId }, { name: "Projects", parentId: INBOX });
  const hostile = (await deliverMessage(store, { recipients: [ACCOUNT], bytes: Buffer.from(HOSTILE) })).delivered[0]!.itemId;
  for (const subject of ["Weekly report", "Kick-off notes", "Budget draft"]) await deliverMessage(store, { recipients: [ACCOUNT], bytes: plain(subject), folderId: projects });
  const admin = await browser.newContext({ storageState: ADMIN.state, baseURL: test.info().project.use.baseURL });
  label = await fullBackup(admin.request, "mail1", [ACCOUNT]);
  await admin.close();
  await deleteItems(store, { accountId }, { itemIds: [hostile] });
  await closeMailstores();
  recovered = `/Recovered ${new Date().toISOString().slice(0, 10)}`;
});

test.describe("helpdesk", () => {
  test.use({ storageState: HELPDESK.state });

  test("finds a deleted message inside a backup by subject, opens it safely and restores it into the Recovered folder", async ({ page }) => {
    test.setTimeout(120_000);
    const outside: string[] = [];
    page.on("request", (request) => {
      if (!new URL(request.url()).hostname.match(/^(127\.0\.0\.1|localhost)$/)) outside.push(request.url());
    });
    await page.goto(`/accounts/${accountId}`);
    const messages = page.getByRole("table", { name: "Messages" });
    await expect(messages).toBeVisible();
    await expect(messages).not.toContainText("Contract renewal terms");

    await page.getByLabel("Read mail from").selectOption(`session:${label}`);
    await page.getByRole("searchbox", { name: "Search messages" }).fill("contract");
    const row = messages.getByRole("row").filter({ hasText: "Contract renewal terms" });
    await expect(row).toHaveCount(1);
    await expect(messages.getByRole("row")).toHaveCount(2); // the header and the one match
    await row.getByRole("button", { name: "Contract renewal terms" }).click();

    const opened = page.getByRole("region", { name: "Message" });
    await expect(opened.getByRole("heading", { name: "Contract renewal terms" })).toBeVisible();
    await expect(opened).toContainText("legal@example.net");
    await expect(opened.getByRole("note")).toContainText("1 remote image(s) or frame(s) were not loaded");
    const body = page.frameLocator('iframe[title="Message body"]');
    await expect(body.locator("b")).toHaveText("renewal terms");
    await expect(body.locator("script")).toHaveCount(0);
    await expect(body.locator("img")).toHaveCount(0);
    expect(await page.title()).not.toBe("pwned");
    await page.screenshot({ path: "test-results/explore-message.png", fullPage: true });

    await row.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Restore selected…" }).click();
    const form = page.getByRole("form", { name: "Restore items" });
    await expect(form.getByLabel("Recovered folder")).toHaveValue(recovered);
    await form.getByRole("button", { name: "Restore" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Restored 1 item(s)" })).toContainText(`into ${recovered}`);

    // Back where they were (which may replace live items) is not offered to helpdesk, and refused.
    await expect(page.getByRole("radio", { name: /back where they were/ })).toHaveCount(0);
    const refused = await page.request.post(`/api/accounts/${accountId}/restore-items`, { data: { label, itemIds: [1], into: "original" } });
    expect(refused.status()).toBe(403);

    // The live mailbox has it now, in the Recovered folder.
    await page.getByLabel("Read mail from").selectOption("live");
    await page.getByLabel("Folder", { exact: true }).selectOption(`${recovered}/Inbox`);
    await expect(messages.getByRole("row").filter({ hasText: "Contract renewal terms" })).toHaveCount(1);
    expect(outside).toEqual([]);
  });

  test("goes from a recent deletion to the mail just before it, and finds the message there", async ({ page }) => {
    await page.goto(`/accounts/${accountId}`);
    await page.getByRole("link", { name: "Find it in the mail just before" }).first().click();
    await expect(page.getByText(/Reading the mailbox as it was at/)).toBeVisible();
    await expect(page.getByRole("table", { name: "Messages" }).getByRole("row").filter({ hasText: "Contract renewal terms" })).toHaveCount(1);
  });
});

test("an admin downloads a folder of the backup as .mbox, holding the messages the backup holds", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto(`/accounts/${accountId}?label=${encodeURIComponent(label)}`);
  await page.getByLabel("Folder", { exact: true }).selectOption("/Inbox/Projects");
  await expect(page.getByRole("table", { name: "Messages" }).getByRole("row")).toHaveCount(4);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("toolbar", { name: "Selected mail" }).getByRole("link", { name: "Download .mbox" }).click()]);
  expect(download.suggestedFilename()).toBe(`${ACCOUNT}-Inbox-Projects-${label}.mbox`);
  const mbox = (await readFile((await download.path())!)).toString("latin1");
  const entries = mbox.split(/^From \S+ .+\n/m).filter(Boolean);
  const parsed = await Promise.all(entries.map((e) => simpleParser(Buffer.from(e.replace(/^>(>*From )/gm, "$1"), "latin1"))));
  const listed = await (await page.request.get(`/api/accounts/${accountId}/messages?label=${encodeURIComponent(label)}&folder=/Inbox/Projects`)).json();
  expect(parsed.map((m) => m.subject).sort()).toEqual(listed.messages.map((m: { subject: string }) => m.subject).sort());
  expect(parsed.map((m) => m.text?.trim()).sort()).toEqual(["Budget draft\nFrom the team.", "Kick-off notes\nFrom the team.", "Weekly report\nFrom the team."]);

  // The whole account at this point into a copy: the restore wizard, prefilled with the session.
  await page.getByRole("link", { name: "Whole account at this point into a copy…" }).click();
  await expect(page).toHaveURL(new RegExp(`/restore\\?label=${label.replace(/\./g, "\\.")}&type=full&account=${accountId}`));
  await expect(page.getByRole("list", { name: "Chosen accounts" })).toContainText(ACCOUNT);

  // The message endpoints: the HTML with a CSP that loads and runs nothing; mistakes are 4xx with { error }.
  const hit = listed.messages[0] as { id: number };
  const html = await page.request.get(`/api/accounts/${accountId}/messages/${hit.id}/html?label=${encodeURIComponent(label)}`);
  expect(html.headers()["content-security-policy"]).toContain("default-src 'none'");
  expect(html.headers()["content-security-policy"]).toContain("sandbox");
  for (const [path, status, code] of [
    [`/api/accounts/${accountId}/messages?at=yesterday`, 400, "invalid_input"],
    [`/api/accounts/${accountId}/messages?label=full-19990101.000000.000`, 404, "session_not_found"],
    [`/api/accounts/${accountId}/messages?label=${encodeURIComponent(label)}&at=2026-01-01`, 400, "invalid_input"],
    [`/api/accounts/${accountId}/messages/abc?label=${encodeURIComponent(label)}`, 400, "invalid_input"],
    [`/api/accounts/${accountId}/messages/999999?label=${encodeURIComponent(label)}`, 404, "item_not_found"],
    [`/api/accounts/${accountId}/download?format=pdf&label=${encodeURIComponent(label)}`, 400, "invalid_input"],
    [`/api/sessions/${encodeURIComponent(label)}/accounts/00000000-0000-4000-8000-000000000000/messages`, 404, "account_not_found"],
  ] as const) {
    const answer = await page.request.get(path);
    expect(answer.status(), path).toBe(status);
    expect((await answer.json()).error.code, path).toBe(code);
  }
  const refused = await page.request.post(`/api/accounts/${accountId}/restore-items`, { data: { label, itemIds: [] } });
  expect(refused.status()).toBe(400);
  expect((await refused.json()).error.message).toContain("choose messages (itemIds) or folders");

  // Both the restore and the download are in the audit log, by item.
  const audit = await (await page.request.get("/api/audit?action=items")).json();
  const actions = (audit.entries ?? audit.items ?? []).map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`);
  expect(actions).toEqual(expect.arrayContaining([`items.read ${HELPDESK.email}`, `items.restore ${HELPDESK.email}`, `items.download ${ADMIN.email}`]));
});
