import { NextResponse } from "next/server";
import { z } from "zod";
import { clientAddressOf } from "@/server/auth/client-address.ts";
import { AuthError, COOKIE, signInRecorded, TooManyAttemptsError } from "@/server/auth/users.ts";
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
  try {
    const { token, user, expiresAt } = await signInRecorded(body.email, body.password, clientAddressOf(request));
    const response = NextResponse.json({ user });
    const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
    response.cookies.set(COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
    return response;
  } catch (error) {
    if (error instanceof TooManyAttemptsError) return errorResponse(429, error.code, error.message);
    if (error instanceof AuthError) return errorResponse(401, "bad_credentials", "wrong email or password");
    return toErrorResponse(error);
  }
}
