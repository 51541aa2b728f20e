import { NextResponse } from "next/server";
import { z } from "zod";
import { beginAudit, finishAudit } from "@/server/audit/audit.ts";
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
  const email = body.email.trim().toLowerCase();
  // The attempt is recorded before the password is checked: the lockout counts attempts still
  // being checked, so a burst of simultaneous guesses gets no more than the limit allows.
  let attempt: bigint;
  try {
    attempt = await beginAudit({ actor: email, role: "", action: "auth.login", address });
  } catch {
    return errorResponse(503, "audit_unavailable", "sign-in attempts cannot be recorded just now: try again later");
  }
  try {
    const { token, user, expiresAt } = await signIn(body.email, body.password, { address, attempt });
    await finishAudit(attempt, { outcome: "ok", status: 200, role: user.role });
    const response = NextResponse.json({ user });
    const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
    response.cookies.set(COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
    return response;
  } catch (error) {
    if (error instanceof TooManyAttemptsError) {
      await finishAudit(attempt, { outcome: "refused", status: 429, message: error.message });
      return errorResponse(429, error.code, error.message);
    }
    const response = toErrorResponse(error);
    if (response.status !== 403) {
      await finishAudit(attempt, { outcome: "failed", status: response.status, message: "sign-in failed" }).catch(() => {});
      return response;
    }
    // Unknown user, wrong password or disabled: one answer, so the form does not tell which.
    await finishAudit(attempt, { outcome: "refused", status: 401, message: "wrong email or password" });
    return errorResponse(401, "bad_credentials", "wrong email or password");
  }
}
