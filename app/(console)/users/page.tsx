import type { Metadata } from "next";
import { AdminOnly } from "@/components/admin-only";
import { UsersAdmin } from "@/components/users-admin";

export const metadata: Metadata = { title: "Users" };

export default function UsersPage() {
  return (
    <AdminOnly what="Users">
      <UsersAdmin />
    </AdminOnly>
  );
}
