import { COOKIE, updateUser, userPatchInput } from "@/server/auth/users.ts";
import { cookieValue, handle } from "../../_lib/guard.ts";

/** `{ password }` to set a new one (ending the user's other sessions), `{ disabled: true | false }` to lock or unlock. */
export async function PATCH(request: Request, { params }: { params: Promise<{ email: string }> }) {
  const raw = (await params).email;
  // Next may hand the segment over still encoded (%40 for @); a lone % is taken as it is.
  let email = raw;
  try {
    email = decodeURIComponent(raw);
  } catch {}
  const body: unknown = await request.json().catch(() => null);
  return handle(request, { permission: "users.manage", audit: "user.update", target: email, params: body, schema: userPatchInput }, () => updateUser(email, body, cookieValue(request, COOKIE)));
}
