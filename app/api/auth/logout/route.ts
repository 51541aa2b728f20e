import { NextResponse } from "next/server";
import { COOKIE, signOut } from "@/server/auth/users.ts";
import { cookieValue, crossSite } from "../../_lib/guard.ts";
import { errorResponse } from "../../_lib/respond.ts";

export async function POST(request: Request) {
  // Like every change, only from the console's own pages: another site cannot sign anyone out.
  if (crossSite(request)) return errorResponse(403, "cross_site", "sign out from the console's own page");
  await signOut(cookieValue(request, COOKIE));
  const response = NextResponse.json({ signedOut: true });
  response.cookies.set(COOKIE, "", { httpOnly: true, sameSite: "lax", path: "/", maxAge: 0 });
  return response;
}
