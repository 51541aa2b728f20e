import { expect, test } from "@playwright/test";
import { ADMIN, HELPDESK } from "./users";

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("a page sends the browser to sign in, a wrong password is refused, the right one comes back to the page", async ({ page }) => {
    await page.goto("/sessions");
    await expect(page).toHaveURL(/\/login\?next=%2Fsessions/);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("wrong email or password");
    await page.screenshot({ path: "test-results/sign-in-refused.png" });

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/sessions$/);
    await expect(page.getByRole("heading", { name: "Backup sessions" })).toBeVisible();
    const cookie = (await page.context().cookies()).find((c) => c.name === "mailvault_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    expect((await page.request.get("/api/servers")).status()).toBe(401);
  });

  test("sign-in sends the browser only to a page of the console, whatever next= says", async ({ page, baseURL }) => {
    for (const next of ["/%5Cevil.example/phish", "//evil.example/", "https://evil.example/"]) {
      // Leave the console first: a page of it left open would notice the cleared session and go to
      // the sign-in page by itself, racing (and aborting) the navigation below.
      await page.goto("about:blank");
      await page.context().clearCookies();
      await page.goto(`/login?next=${next}`);
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(ADMIN.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page, next).toHaveURL(`${baseURL}/`, { timeout: 30_000 });
    }
  });

  test("a sign-out from another site is refused, and the session stays", async ({ playwright, baseURL }) => {
    const signedIn = await playwright.request.newContext({ baseURL, storageState: ADMIN.state });
    const response = await signedIn.post("/api/auth/logout", { headers: { origin: "https://evil.example" } });
    expect(response.status()).toBe(403);
    expect((await response.json()).error.code).toBe("cross_site");
    expect((await signedIn.get("/api/me")).status()).toBe(200);
    await signedIn.dispose();
  });

  test("a sign-in lockout counts the address the console saw, whatever X-Forwarded-For claims", async ({ playwright, baseURL }) => {
    const admin = await playwright.request.newContext({ baseURL, storageState: ADMIN.state });
    const email = `spoof-${Date.now()}@e2e.test`;
    const password = "the right password, typed late";
    expect((await admin.post("/api/users", { data: { email, role: "helpdesk", password } })).status()).toBe(201);
    const anonymous = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
    // Ten guesses, each claiming another address: they all come from this one.
    for (let i = 0; i < 10; i++) {
      const guess = await anonymous.post("/api/auth/login", { data: { email, password: `guess ${i}` }, headers: { "x-forwarded-for": `203.0.113.${i}`, "x-mailvault-client-address": `198.51.100.${i}` } });
      expect(guess.status()).toBe(401);
    }
    const locked = await anonymous.post("/api/auth/login", { data: { email, password }, headers: { "x-forwarded-for": "192.0.2.77" } });
    expect(locked.status()).toBe(429);
    const entries = (await (await admin.get(`/api/audit?action=auth.login&actor=${encodeURIComponent(email)}`)).json()).entries as { address: string }[];
    expect(new Set(entries.map((e) => e.address))).toEqual(new Set(["127.0.0.1"]));
    await anonymous.dispose();
    await admin.dispose();
  });

  test("the API answers 401 without a session", async ({ request }) => {
    const response = await request.get("/api/accounts");
    expect(response.status()).toBe(401);
    expect((await response.json()).error.code).toBe("not_signed_in");
  });
});

test.describe("helpdesk", () => {
  test.use({ storageState: HELPDESK.state });

  test("sees no admin pages or buttons, and the API refuses them with 403", async ({ page }) => {
    await page.goto("/");
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Restore", exact: true })).toBeVisible();
    for (const name of ["Users", "Audit log", "Schedules"]) await expect(nav.getByRole("link", { name })).toHaveCount(0);
    await expect(page.getByText("Helpdesk", { exact: true })).toBeVisible();
    await page.goto("/sessions");
    await expect(page.getByRole("heading", { name: "Backup sessions" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Back up now: full" })).toHaveCount(0);
    // Typed in by hand, an admin page is not rendered: it says whose it is, with no "Try again".
    for (const [path, what] of [["/users", "Users"], ["/audit", "The audit log"]] as const) {
      await page.goto(path);
      await expect(page.getByText(`${what} is for admins`)).toBeVisible();
      await expect(page.getByRole("button", { name: "Try again" })).toHaveCount(0);
    }
    await page.goto("/servers/mail1");
    for (const name of ["Run a restore drill…", "Back up now: full", "Ping worker"]) await expect(page.getByRole("button", { name })).toHaveCount(0);

    for (const [method, path, data] of [
      ["post", "/api/backups", { server: "mail1", type: "full" }],
      ["post", "/api/servers/mail1/redo/archive", {}],
      ["get", "/api/audit", undefined],
      ["get", "/api/users", undefined],
    ] as const) {
      const response = method === "post" ? await page.request.post(path, { data }) : await page.request.get(path);
      expect(response.status(), path).toBe(403);
    }
  });
});

test("the shell: a signed-in /login goes on to the console, an unknown address is not found inside it, the favicon is there", async ({ page }) => {
  await page.goto("/login?next=/sessions");
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole("heading", { name: "Backup sessions" })).toBeVisible();
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  expect((await page.request.get("/icon.svg")).status()).toBe(200);
  expect((await page.request.get("/logo.svg")).status()).toBe(200);
});
