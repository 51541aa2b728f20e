import type { Metadata } from "next";
import { DrillList } from "@/components/drills";

export const metadata: Metadata = { title: "Restore drills" };

export default function DrillsPage() {
  return <DrillList />;
}
