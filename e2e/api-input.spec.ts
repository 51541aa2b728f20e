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

test("a method a route lacks answers 405 with an error body", async ({ request }) => {
  for (const [method, path] of [["DELETE", "/api/servers"], ["PUT", "/api/health"], ["PATCH", "/api/sessions"]] as const) {
    const response = await request.fetch(path, { method });
    expect(response.status(), `${method} ${path}`).toBe(405);
    expect(await response.json(), `${method} ${path}`).toEqual({ error: { code: "method_not_allowed", message: `${method} is not something ${path} does` } });
  }
});

test("a body streamed without a Content-Length is refused with 411 before it is read", async ({ baseURL }) => {
  const { request: send } = await import("node:http");
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const outgoing = send(`${baseURL}/api/backups`, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    // The first chunk only: the answer comes without waiting for the rest.
    outgoing.write(`{"server":"mail1","type":"full","filler":"${"x".repeat(64 * 1024)}`);
  });
  expect(answer.status).toBe(411);
  expect(JSON.parse(answer.body).error.code).toBe("length_required");
});
