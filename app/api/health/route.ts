import { NextResponse } from "next/server";
import { checkHealth } from "@/server/health/check-health.ts";

export async function GET() {
  const report = await checkHealth();
  return NextResponse.json(report, { status: report.status === "ok" ? 200 : 503, headers: { "cache-control": "no-store" } });
}
