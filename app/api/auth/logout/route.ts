import { NextResponse } from "next/server";
import { COOKIE, signOut } from "@/server/auth/users.ts";
import { cookieValue } from "../../_lib/guard.ts";

export async function POST(request: Request) {
  await signOut(cookieValue(request, COOKIE));
  const response = NextResponse.json({ signedOut: true });
  response.cookies.set(COOKIE, "", { httpOnly: true, sameSite: "lax", path: "/", maxAge: 0 });
  return response;
}
