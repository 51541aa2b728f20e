import { expect, type APIRequestContext, type Page } from "@playwright/test";

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

/** Waits until no backup session of the server is queued or running (another test may have started one). */
export async function waitForIdle(request: APIRequestContext, server: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const body = await (await request.get(`/api/sessions?server=${server}&pageSize=5`)).json();
        return (body.sessions as { status: string }[]).filter((s) => s.status === "running" || s.status === "queued").length;
      },
      { timeout: 90_000, intervals: [500] },
    )
    .toBe(0);
}

/** A completed full backup of the accounts, through the API as an admin. */
export async function fullBackup(request: APIRequestContext, server: string, accounts: string[]): Promise<string> {
  await waitForIdle(request, server);
  const started = await request.post("/api/backups", { data: { server, type: "full", accounts } });
  expect(started.status()).toBe(202);
  const { label } = await started.json();
  await expect
    .poll(async () => (await (await request.get(`/api/sessions/${label}?server=${server}`)).json()).status, { timeout: 90_000, intervals: [500] })
    .toBe("completed");
  return label;
}
