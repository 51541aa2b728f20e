import { setDisabled, setPassword } from "@/server/auth/users.ts";
import { InvalidInputError } from "@/server/errors.ts";
import { handle } from "../../_lib/guard.ts";

/** `{ password }` to set a new one, `{ disabled: true | false }` to lock or unlock. */
export async function PATCH(request: Request, { params }: { params: Promise<{ email: string }> }) {
  const email = decodeURIComponent((await params).email);
  const body = (await request.json().catch(() => ({}))) as { password?: string; disabled?: boolean };
  return handle(request, { permission: "users.manage", audit: "user.update", target: email, params: body }, async () => {
    if (body.password === undefined && body.disabled === undefined) throw new InvalidInputError("give a password or disabled");
    if (body.password !== undefined) await setPassword(email, body.password);
    if (body.disabled !== undefined) await setDisabled(email, body.disabled);
    return { email, updated: true };
  });
}
