/** Every page at laptop width, as each persona: it loads without an error state and has its heading. */
import { expect, test } from "@playwright/test";
import { HELPDESK } from "./users";

const PAGES: [string, string][] = [
  ["/", "Dashboard"],
  ["/drills", "Restore drills"],
  ["/servers", "Servers"],
  ["/servers/mail2", "Server mail2"],
  ["/sessions", "Backup sessions"],
  ["/accounts", "Accounts"],
  ["/restore", "Restore"],
  ["/restores", "Restore runs"],
  ["/redo?server=mail2", "Redo browser"],
  ["/jobs", "Jobs"],
  ["/schedules", "Backup schedules"],
];

test.use({ viewport: { width: 1280, height: 720 } });

for (const [persona, state] of [["admin", undefined], ["helpdesk", HELPDESK.state]] as const) {
  test.describe(persona, () => {
    if (state) test.use({ storageState: state });
    const pages = persona === "admin" ? [...PAGES, ["/users", "Users"] as [string, string], ["/audit", "Audit log"] as [string, string]] : PAGES;
    for (const [path, heading] of pages) {
      test(`${path} loads`, async ({ page }) => {
        await page.goto(path);
        await expect(page.getByRole("heading", { level: 1, name: heading, exact: true })).toBeVisible();
        await expect(page.getByText(/^Could not load this/)).toHaveCount(0);
        await expect(page.getByLabel("Loading")).toHaveCount(0);
        // No clipped column at 1280 px: each table fits its box, and no header or time is cut short.
        const clipped = await page.locator("table").evaluateAll((tables) =>
          tables.flatMap((table) => {
            const box = table.parentElement!;
            const name = table.getAttribute("aria-label") ?? "table";
            const wide = table.scrollWidth > box.clientWidth + 1 ? [`${name}: ${table.scrollWidth} px in a ${box.clientWidth} px box`] : [];
            const headers = [...table.querySelectorAll("th")].filter((th) => th.scrollWidth > th.clientWidth + 1).map((th) => `${name}: header "${th.textContent}" cut`);
            const times = [...table.querySelectorAll("td")].filter((td) => td.querySelector("time") && td.scrollWidth > td.clientWidth + 1).map((td) => `${name}: time "${td.textContent}" cut`);
            return [...wide, ...headers, ...times];
          }),
        );
        expect(clipped).toEqual([]);
        const name = path === "/" ? "dashboard" : path.slice(1).replace(/[/?=]/g, "-");
        await page.screenshot({ path: `test-results/pages/${persona}-${name}.png`, fullPage: true });
      });
    }
  });
}

test("the console can be driven from the keyboard: skip link, navigation, focus rings", async ({ page }) => {
  await page.goto("/");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" })).toBeFocused();
  for (let i = 0; i < 3; i++) await page.keyboard.press("Tab");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(page.getByRole("searchbox", { name: "Search accounts" })).toBeFocused();
});

test("a deleted account's page says what can be brought back and from where", async ({ page }) => {
  await page.goto("/accounts?status=deleted");
  await page.getByRole("table", { name: "Accounts" }).getByRole("link").first().click();
  await expect(page.getByText(/^deleted \d{4}-\d{2}-\d{2}$/).first()).toBeVisible();
  await expect(page.getByText(/run a full backup of its server first/i)).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Restore points" })).toBeVisible();
  // No live mailbox and (deleted before any backup) no session: the point-in-time picker is the way in, and the name ended with the account.
  await expect(page.getByLabel("Point in time (UTC)")).toBeVisible();
  await expect(page.getByText(/no backup holds it: its mail can be read at a point in time only while the redo still holds its whole life/)).toBeVisible();
  await expect(page.getByText(/– deleted \d{4}-\d{2}-\d{2}/)).toBeVisible();
  await page.screenshot({ path: "test-results/pages/admin-deleted-account.png", fullPage: true });
});
