import { expect, test } from "@playwright/test";

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
