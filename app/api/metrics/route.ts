import { NextResponse } from "next/server";
import { collectMetrics, metricsAccess } from "@/server/health/metrics.ts";
import { errorResponse, toErrorResponse } from "../_lib/respond.ts";

/** Prometheus metrics (docs/monitoring.md): a bearer token, not a console session. */
export async function GET(request: Request) {
  const access = metricsAccess(request.headers.get("authorization"));
  if (access === "off") return errorResponse(404, "not_found", "no such address: metrics are off (set MAILVAULT_METRICS_TOKEN)");
  if (access === "denied") {
    const denied = errorResponse(401, "bad_token", "metrics need Authorization: Bearer <MAILVAULT_METRICS_TOKEN>");
    denied.headers.set("www-authenticate", 'Bearer realm="mailvault metrics"');
    return denied;
  }
  try {
    const { contentType, body } = await collectMetrics();
    return new NextResponse(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
