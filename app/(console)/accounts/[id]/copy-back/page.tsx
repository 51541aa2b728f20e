import type { Metadata } from "next";
import { CopyBack } from "@/components/copy-back";

export const metadata: Metadata = { title: "Copy back" };

export default async function CopyBackPage({ params }: { params: Promise<{ id: string }> }) {
  return <CopyBack accountId={(await params).id} />;
}
