import type { Metadata } from "next";
import { AdminOnly } from "@/components/admin-only";
import { Schedules } from "@/components/schedules";

export const metadata: Metadata = { title: "Schedules" };

export default function SchedulesPage() {
  return (
    <AdminOnly what="Schedules">
      <Schedules />
    </AdminOnly>
  );
}
