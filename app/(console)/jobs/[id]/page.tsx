import type { Metadata } from "next";
import { JobDetailView } from "@/components/job-detail";

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return { title: `Job ${decodeURIComponent((await params).id)}` };
}

export default async function JobPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ server?: string }> }) {
  const { id } = await params;
  const { server } = await searchParams;
  return <JobDetailView id={decodeURIComponent(id)} server={server ?? ""} />;
}
