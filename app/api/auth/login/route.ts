import { NextResponse } from "next/server";
import { z } from "zod";
import { recordAudit } from "@/server/audit/audit.ts";
import { clientAddressOf } from "@/server/auth/client-address.ts";
import { COOKIE, signIn, TooManyAttemptsError } from "@/server/auth/users.ts";
import { crossSite } from "../../_lib/guard.ts";
import { errorResponse, toErrorResponse } from "../../_lib/respond.ts";

const loginInput = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
});

export async function POST(request: Request) {
  if (crossSite(request)) return errorResponse(403, "cross_site", "sign in from the console's own page");
  const parsed = loginInput.safeParse(await request.json().catch(() => null));
  if (!parsed.success) return errorResponse(400, "invalid_input", "give an email and a password, as text (an email of at most 320 characters)");
  const body = parsed.data;
  const address = clientAddressOf(request);
  try {
    const { token, user, expiresAt } = await signIn(body.email, body.password, address);
    await recordAudit({ actor: user.email, role: user.role, action: "auth.login", outcome: "ok", status: 200, address });
    const response = NextResponse.json({ user });
    const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
    response.cookies.set(COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
    return response;
  } catch (error) {
    const email = body.email.trim().toLowerCase();
    if (error instanceof TooManyAttemptsError) {
      await recordAudit({ actor: email, role: "", action: "auth.login", outcome: "refused", status: 429, message: error.message, address });
      return errorResponse(429, error.code, error.message);
    }
    const response = toErrorResponse(error);
    if (response.status !== 403) return response;
    // Unknown user, wrong password or disabled: one answer, so the form does not tell which.
    await recordAudit({ actor: email, role: "", action: "auth.login", outcome: "refused", status: 401, message: "wrong email or password", address });
    return errorResponse(401, "bad_credentials", "wrong email or password");
  }
}
