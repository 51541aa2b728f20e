import { NextResponse } from "next/server";
import { recordAudit } from "@/server/audit/audit.ts";
import { COOKIE, signIn } from "@/server/auth/users.ts";
import { errorResponse, toErrorResponse } from "../../_lib/respond.ts";

export async function POST(request: Request) {
  const body = (await request.json().catch(() => ({}))) as { email?: string; password?: string };
  if (!body.email || !body.password) return errorResponse(400, "invalid_input", "give an email and a password");
  try {
    const { token, user, expiresAt } = await signIn(body.email, body.password);
    await recordAudit({ actor: user.email, role: user.role, action: "auth.login", outcome: "ok", status: 200 });
    const response = NextResponse.json({ user });
    const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
    response.cookies.set(COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
    return response;
  } catch (error) {
    await recordAudit({ actor: body.email.toLowerCase(), role: "", action: "auth.login", outcome: "refused", status: 401, message: "wrong email or password" });
    const response = toErrorResponse(error);
    return response.status === 403 ? errorResponse(401, "bad_credentials", "wrong email or password") : response;
  }
}
