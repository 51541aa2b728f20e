import type { Metadata } from "next";
import { RestoreRunDetail } from "@/components/restore-runs";

export async function generateMetadata({ params }: { params: Promise<{ label: string }> }): Promise<Metadata> {
  return { title: decodeURIComponent((await params).label) };
}

export default async function RestoreRunPage({ params }: { params: Promise<{ label: string }> }) {
  return <RestoreRunDetail label={decodeURIComponent((await params).label)} />;
}
