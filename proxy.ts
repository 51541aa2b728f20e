/**
 * Pages need a signed-in browser: without the session cookie they redirect to the sign-in page.
 * This is only the optimistic check that saves a round trip; every API route checks the session
 * and the role itself (app/api/_lib/guard.ts), so a forged or expired cookie gets nothing.
 */
import { NextResponse, type NextRequest } from "next/server";
import { malformedAddress } from "@/app/api/_lib/malformed.ts";
import { SESSION_COOKIE } from "@/server/auth/cookie.ts";

/** 1 MiB: far more than any request of this API needs. */
const MAX_BODY_BYTES = 1024 * 1024;

export function proxy(request: NextRequest) {
  if (request.nextUrl.pathname.startsWith("/api/")) {
    const refuse = (status: number, code: string, message: string) => NextResponse.json({ error: { code, message } }, { status });
    // An address no route could read (`%ff`, a NUL) is the caller's mistake: 400, never a 500.
    const malformed = malformedAddress(request.nextUrl);
    if (malformed) return refuse(400, "invalid_input", malformed);
    // Decided from the headers, before any body is read: too large, or from nobody signed in.
    if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return refuse(413, "body_too_large", `a request body is at most ${MAX_BODY_BYTES} bytes`);
    const write = request.method !== "GET" && request.method !== "HEAD";
    if (write && !request.cookies.has(SESSION_COOKIE) && request.nextUrl.pathname !== "/api/auth/login") return refuse(401, "not_signed_in", "sign in first");
    return NextResponse.next();
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
  matcher: ["/((?!login|_next/|favicon.ico|icon.svg|logo.svg).*)"],
};
