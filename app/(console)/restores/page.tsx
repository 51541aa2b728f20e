import type { Metadata } from "next";
import { RestoreRunsList } from "@/components/restore-runs";

export const metadata: Metadata = { title: "Restore runs" };

export default function RestoreRunsPage() {
  return <RestoreRunsList />;
}
