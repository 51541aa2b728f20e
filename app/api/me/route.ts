import { handle } from "../_lib/guard.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "read" }, (user) => ({ user }));
}
