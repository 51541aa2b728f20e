import type { Metadata } from "next";
import { SessionDetailView } from "@/components/session-detail";

export async function generateMetadata({ params }: { params: Promise<{ label: string }> }): Promise<Metadata> {
  return { title: `Session ${decodeURIComponent((await params).label)}` };
}

export default async function SessionPage({ params, searchParams }: { params: Promise<{ label: string }>; searchParams: Promise<{ server?: string }> }) {
  const { label } = await params;
  const { server } = await searchParams;
  return <SessionDetailView label={decodeURIComponent(label)} server={server ?? ""} />;
}
