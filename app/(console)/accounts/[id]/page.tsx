import type { Metadata } from "next";
import { AccountDetailView } from "@/components/account-detail";

export const metadata: Metadata = { title: "Account" };

/** `?label=<session>` or `?at=<time>` opens the Messages card on that backup. */
export default async function AccountPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ label?: string; at?: string }> }) {
  const { id } = await params;
  const { label, at } = await searchParams;
  return <AccountDetailView id={id} point={typeof label === "string" || typeof at === "string" ? { label: typeof label === "string" ? label : undefined, at: typeof at === "string" ? at : undefined } : undefined} />;
}
