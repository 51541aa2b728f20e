import { expect, test } from "@playwright/test";
import { fullBackup } from "./helpers";

test("the dashboard shows both servers with live workers", async ({ page }) => {
  await page.goto("/");
  for (const name of ["mail1", "mail2"]) await expect(page.getByRole("link", { name, exact: true })).toBeVisible();
  await expect(page.getByText(/Worker: 1 worker\(s\) alive/)).toHaveCount(2);
  await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
});

test("a server page pings its worker through the queue", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/");
  await page.getByRole("link", { name: "mail1", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Server mail1" })).toBeVisible();
  // On a busy machine the worker's job slots may all be taken for a while: the ping then says it is
  // still running after 10 s, and is asked again until a slot frees.
  await expect(async () => {
    await page.getByRole("button", { name: "Ping worker" }).click();
    await expect(page.getByText(/answered by .+ in \d+ ms/)).toBeVisible({ timeout: 15_000 });
  }).toPass({ timeout: 90_000 });
  await page.goto("/jobs");
  await expect(page.getByRole("row").filter({ hasText: "server.ping" }).first()).toContainText("completed");
  // The redo archiver's jobs (several a minute) are hidden until asked for; kind and server filter.
  await expect(page.getByRole("row").filter({ hasText: "redo.archive" })).toHaveCount(0);
  await page.getByLabel("Show system jobs (redo archiving, report mails)").check();
  await expect(page.getByRole("row").filter({ hasText: "redo.archive" }).first()).toBeVisible();
  await page.getByLabel("Kind").selectOption("server.ping");
  await expect(page).toHaveURL(/kind=server\.ping/);
  const rows = page.getByRole("row").filter({ hasNotText: "Submitted" });
  await expect(rows.first()).toContainText("server.ping");
  for (const text of await rows.allInnerTexts()) expect(text).toContain("server.ping");
  await page.getByLabel("Server").selectOption("mail2");
  await expect(page.getByRole("heading", { name: "Jobs of mail2" })).toBeVisible();
});

test("an unknown server says so instead of failing", async ({ page }) => {
  await page.goto("/servers/mail9");
  await expect(page.getByText("Could not load this: unknown server: mail9")).toBeVisible();
});

test("the API answers a caller's mistakes with 400 and a message", async ({ request }) => {
  for (const query of ["page=-1", "pageSize=100000"]) {
    const response = await request.get(`/api/accounts?${query}`);
    expect(response.status()).toBe(400);
    expect((await response.json()).error.message).toMatch(/page/);
  }
  expect((await request.get("/api/health")).status()).toBe(200);
});

test("the dashboard flags a server with no schedule, and charts its last sessions", async ({ page }) => {
  test.setTimeout(240_000);
  const { servers } = await (await page.request.get("/api/schedules")).json();
  const unscheduled = (servers as { server: string; entries: unknown[] }[]).find((s) => s.entries.length === 0)!.server;
  const { items } = await (await page.request.get(`/api/accounts?server=${unscheduled}&status=active&q=example&pageSize=1`)).json();
  const { total } = await (await page.request.get(`/api/sessions?server=${unscheduled}&pageSize=1`)).json();
  for (let i = total; i < 3; i++) await fullBackup(page.request, unscheduled, [(items as { email: string }[])[0]!.email]);

  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 1000 });
    await page.goto("/");
    await expect(page.getByRole("list", { name: `Red flags of ${unscheduled}` })).toContainText(`${unscheduled} has no scheduled backups`);
    const strip = page.getByRole("list", { name: new RegExp(`^Last \\d+ sessions of ${unscheduled}$`) });
    await expect(strip.getByRole("listitem").first()).toBeVisible();
    const trends = page.getByLabel(`Trends of ${unscheduled}`);
    await expect(trends.locator("figure")).toHaveCount(3);
    // Each chart drew its line through the sessions (recharts renders an SVG path once it has a size;
    // a flat line has no height, so the path's points are checked rather than its visibility).
    for (const figure of await trends.locator("figure").all()) await expect(figure.locator("path.recharts-curve").first()).toHaveAttribute("d", /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);
    await page.screenshot({ path: `test-results/dashboard-${width}.png`, fullPage: true });
  }
});
