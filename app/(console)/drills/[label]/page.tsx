import type { Metadata } from "next";
import { DrillDetail } from "@/components/drills";

export async function generateMetadata({ params }: { params: Promise<{ label: string }> }): Promise<Metadata> {
  return { title: decodeURIComponent((await params).label) };
}

export default async function DrillPage({ params }: { params: Promise<{ label: string }> }) {
  return <DrillDetail label={decodeURIComponent((await params).label)} />;
}
