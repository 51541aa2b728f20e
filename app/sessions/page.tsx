import type { Metadata } from "next";
import { EmptyState, PageHeader } from "@/components/ui";

export const metadata: Metadata = { title: "Sessions" };

export default function SessionsPage() {
  return (
    <>
      <PageHeader title="Backup sessions" subtitle="Full, incremental and auto-grouped backups, newest first." />
      <EmptyState title="No backup sessions yet">
        Mailvault has not taken a backup of any server. Sessions appear here once backups run.
      </EmptyState>
    </>
  );
}
