import { expect, test } from "@playwright/test";
import { ADMIN } from "./users";

// Addresses no route could read reach the real console's proxy first: each answers 400 with the
// usual error body, not Next's plain-text 500.
test("an API address with bad percent-encoding or a NUL answers 400 with an error body", async ({ request }) => {
  for (const path of ["/api/servers/%ff", "/api/servers/mail%00", "/api/accounts?q=a%00b", "/api/jobs/restore-%ED%A0%80"]) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(400);
    expect(await response.json(), path).toMatchObject({ error: { code: "invalid_input", message: expect.any(String) } });
  }
  // A sound address still works, and pages still need a session.
  expect((await request.get("/api/servers/mail1")).status()).toBe(200);
});

test("a body over 1 MiB answers 413, and a change from nobody signed in 401, both before the body is read", async ({ playwright, baseURL }) => {
  const signedIn = await playwright.request.newContext({ baseURL, storageState: ADMIN.state });
  const big = await signedIn.post("/api/users", { data: { email: "big@example.com", role: "helpdesk", password: "x".repeat(2 * 1024 * 1024) } });
  expect(big.status()).toBe(413);
  expect((await big.json()).error.code).toBe("body_too_large");
  const anonymous = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  // A body that would be refused anyway, should the check ever let it through.
  const refused = await anonymous.post("/api/backups", { data: { server: "nosuch", type: "full", filler: "x".repeat(512 * 1024) } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe("not_signed_in");
  await signedIn.dispose();
  await anonymous.dispose();
});
