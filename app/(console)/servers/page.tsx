import type { Metadata } from "next";
import { ServerList } from "@/components/server-list";

export const metadata: Metadata = { title: "Servers" };

export default function ServersPage() {
  return <ServerList />;
}
