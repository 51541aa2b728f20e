/**
 * The shape of every API answer. Route handlers call `respond(() => domainCall())`; a caller's
 * mistake becomes a 4xx `{ error: { code, message, details } }`, anything else a logged 500.
 */
import { NextResponse } from "next/server";
import { z, ZodError } from "zod";
import { MailvaultError, type ErrorKind } from "@/server/errors.ts";
import { logger } from "@/server/logger.ts";

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

export function errorResponse(status: number, code: string, message: string, details?: unknown): NextResponse {
  return NextResponse.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, { status });
}

export function toErrorResponse(error: unknown): NextResponse {
  if (error instanceof ZodError) {
    const message = error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
    return errorResponse(400, "invalid_input", message, z.treeifyError(error));
  }
  if (error instanceof MailvaultError) return errorResponse(STATUS[error.kind], error.code, error.message, error.details);
  logger.error({ err: error }, "unhandled error in an API route");
  return errorResponse(500, "internal", "internal error: see the console's log");
}

export async function respond<T>(work: () => Promise<T> | T, status = 200): Promise<NextResponse> {
  try {
    const result = await work();
    // A route that answers a file (a download, a message's HTML) builds its own response.
    if (result instanceof Response) return result as unknown as NextResponse;
    return NextResponse.json(result, { status });
  } catch (error) {
    return toErrorResponse(error);
  }
}

/** Query string parameters as a plain object, for a zod schema to parse. */
export function queryOf(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}
