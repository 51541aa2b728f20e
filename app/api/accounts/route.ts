import { searchAccounts, searchAccountsInput } from "@/server/directory/search-accounts.ts";
import { queryOf, respond } from "../_lib/respond.ts";

export async function GET(request: Request) {
  return respond(() => searchAccounts(searchAccountsInput.parse(queryOf(request))));
}
