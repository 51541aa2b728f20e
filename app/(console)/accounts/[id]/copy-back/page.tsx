import type { Metadata } from "next";
import { AdminOnly } from "@/components/admin-only";
import { CopyBack } from "@/components/copy-back";

export const metadata: Metadata = { title: "Copy back" };

export default async function CopyBackPage({ params }: { params: Promise<{ id: string }> }) {
  return (
    <AdminOnly what="Copy-back">
      <CopyBack accountId={(await params).id} />
    </AdminOnly>
  );
}
