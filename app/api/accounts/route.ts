import { searchAccounts, searchAccountsInput } from "@/server/directory/search-accounts.ts";
import { handle } from "../_lib/guard.ts";
import { queryOf } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return handle(request, { permission: "read" }, () => searchAccounts(searchAccountsInput.parse(queryOf(request))));
}
