import { createUser, listUsers, newUserInput } from "@/server/auth/users.ts";
import { handle } from "../_lib/guard.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "users.manage" }, async () => ({ users: await listUsers() }));
}

export async function POST(request: Request) {
  const body = await request.json().catch(() => ({}));
  return handle(request, { permission: "users.manage", audit: "user.create", target: body?.email, params: body, schema: newUserInput, status: 201 }, () => createUser(body));
}
