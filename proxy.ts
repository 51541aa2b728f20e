/**
 * Pages need a signed-in browser: without the session cookie they redirect to the sign-in page.
 * This is only the optimistic check that saves a round trip; every API route checks the session
 * and the role itself (app/api/_lib/guard.ts), so a forged or expired cookie gets nothing.
 */
import { NextResponse, type NextRequest } from "next/server";
import { malformedAddress } from "@/app/api/_lib/malformed.ts";
import { SESSION_COOKIE } from "@/server/auth/cookie.ts";

export function proxy(request: NextRequest) {
  if (request.nextUrl.pathname.startsWith("/api/")) {
    // An address no route could read (`%ff`, a NUL) is the caller's mistake: 400, never a 500.
    const malformed = malformedAddress(request.nextUrl);
    return malformed ? NextResponse.json({ error: { code: "invalid_input", message: malformed } }, { status: 400 }) : NextResponse.next();
  }
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = new URL("/login", request.url);
  const next = request.nextUrl.pathname + request.nextUrl.search;
  if (next !== "/") url.searchParams.set("next", next);
  return NextResponse.redirect(url);
}

export const config = {
  // Pages (the API answers 401 itself, and only its addresses are checked here), not the
  // sign-in page or Next's assets.
  matcher: ["/((?!login|_next/|favicon.ico).*)"],
};
