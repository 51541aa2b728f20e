import type { Metadata } from "next";
import { Suspense } from "react";
import { RestoreWizard } from "@/components/restore-wizard/restore-wizard";

export const metadata: Metadata = { title: "Restore" };

export default function RestorePage() {
  return (
    <Suspense>
      <RestoreWizard />
    </Suspense>
  );
}
