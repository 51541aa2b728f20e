import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MailvaultError, ServerNotFoundError } from "@/server/errors.ts";
import { respond } from "./respond.ts";

const body = async (r: Response) => ({ status: r.status, json: await r.json() });

describe("respond", () => {
  it("answers the work's value with 200", async () => {
    expect(await body(await respond(() => ({ ok: true })))).toEqual({ status: 200, json: { ok: true } });
  });

  it("turns a validation error into 400 with the field named in the message", async () => {
    const result = await body(await respond(() => z.object({ page: z.number().min(1, "page starts at 1") }).parse({ page: 0 })));
    expect(result.status).toBe(400);
    expect(result.json.error).toMatchObject({ code: "invalid_input", message: "page: page starts at 1" });
  });

  it("maps typed errors to their status and code", async () => {
    expect(await body(await respond(() => Promise.reject(new ServerNotFoundError("mail9"))))).toEqual({
      status: 404,
      json: { error: { code: "server_not_found", message: "unknown server: mail9" } },
    });
    const conflict = await respond(() => Promise.reject(new MailvaultError("conflict", "backup_in_progress", "backup in progress: full-1")));
    expect(conflict.status).toBe(409);
  });

  it("hides the details of an unexpected failure behind a 500", async () => {
    const result = await body(await respond(() => Promise.reject(new Error("connection string with a password"))));
    expect(result.status).toBe(500);
    expect(JSON.stringify(result.json)).not.toContain("password");
  });
});
