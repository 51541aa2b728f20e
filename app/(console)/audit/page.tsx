import type { Metadata } from "next";
import { Suspense } from "react";
import { AdminOnly } from "@/components/admin-only";
import { AuditLog } from "@/components/audit-log";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  return (
    <AdminOnly what="The audit log">
      <Suspense>
        <AuditLog />
      </Suspense>
    </AdminOnly>
  );
}
