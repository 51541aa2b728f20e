import type { Metadata } from "next";
import { Suspense } from "react";
import { RedoBrowser } from "@/components/redo-browser";

export const metadata: Metadata = { title: "Redo browser" };

export default function RedoPage() {
  return (
    <Suspense>
      <RedoBrowser />
    </Suspense>
  );
}
