import type { Metadata } from "next";
import { Suspense } from "react";
import { AccountSearch } from "@/components/account-search";
import { Loading } from "@/components/ui";

export const metadata: Metadata = { title: "Accounts" };

export default function AccountsPage() {
  return (
    <Suspense fallback={<Loading rows={6} />}>
      <AccountSearch />
    </Suspense>
  );
}
