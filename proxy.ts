/**
 * Pages need a signed-in browser: without the session cookie they redirect to the sign-in page.
 * This is only the optimistic check that saves a round trip; every API route checks the session
 * and the role itself (app/api/_lib/guard.ts), so a forged or expired cookie gets nothing.
 */
import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE } from "@/server/auth/cookie.ts";

export function proxy(request: NextRequest) {
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = new URL("/login", request.url);
  const next = request.nextUrl.pathname + request.nextUrl.search;
  if (next !== "/") url.searchParams.set("next", next);
  return NextResponse.redirect(url);
}

export const config = {
  // Everything but the API (which answers 401 itself), the sign-in page and Next's assets.
  matcher: ["/((?!api/|login|_next/|favicon.ico).*)"],
};
