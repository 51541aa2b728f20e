/**
 * Every API route goes through `handle`: who is asking (the session cookie), whether their role
 * allows it (server/auth/permissions.ts), the work, the answer, and for changes an audit entry
 * saying who did what with which parameters and what came of it.
 */
import type { NextResponse } from "next/server";
import type { z } from "zod";
import { beginAudit, finishAudit, parsedParams, recordAudit } from "@/server/audit/audit.ts";
import { clientAddressOf } from "@/server/auth/client-address.ts";
import { can, type Permission } from "@/server/auth/permissions.ts";
import { COOKIE, userForToken, type SessionUser } from "@/server/auth/users.ts";
import { logger } from "@/server/logger.ts";
import { malformedAddress } from "./malformed.ts";
import { errorResponse, respond } from "./respond.ts";

export function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

/**
 * A change sent by a page of another site: browsers say where a request comes from, and the
 * console takes changes only from its own pages (defence in depth on top of SameSite cookies).
 */
export function crossSite(request: Request): boolean {
  if (request.method === "GET" || request.method === "HEAD") return false;
  const origin = request.headers.get("origin");
  if (!origin) return false;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? new URL(request.url).host;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

export async function currentUser(request: Request): Promise<SessionUser | null> {
  return userForToken(cookieValue(request, COOKIE));
}

export interface HandleOptions<T = unknown> {
  permission: Permission | ((user: SessionUser) => Permission);
  /** Audit this call under this action name (every change is audited; reads are not). */
  audit?: string;
  target?: string;
  params?: unknown;
  /** `params` is a request body: the entry keeps what this schema makes of it, not the body as sent. */
  schema?: z.ZodType;
  status?: number;
  /** What came of a change, in words, for its audit entry (e.g. the session label it started). */
  summary?(result: T): string;
}

export async function handle<T>(request: Request, options: HandleOptions<T>, work: (user: SessionUser) => Promise<T> | T): Promise<NextResponse> {
  if (crossSite(request)) return errorResponse(403, "cross_site", "changes are taken only from the console's own pages");
  const malformed = malformedAddress(new URL(request.url));
  if (malformed) return errorResponse(400, "invalid_input", malformed);
  const user = await currentUser(request);
  if (!user) return errorResponse(401, "not_signed_in", "sign in first");
  const permission = typeof options.permission === "function" ? options.permission(user) : options.permission;
  const params = options.schema ? parsedParams(options.schema, options.params) : options.params;
  const entry = options.audit ? { actor: user.email, role: user.role, action: options.audit, target: options.target, params, address: clientAddressOf(request) } : null;
  if (!can(user.role, permission)) {
    if (entry) await recordAudit({ ...entry, outcome: "refused", status: 403, message: `${user.role} may not ${permission}` }).catch((error) => logger.error({ err: error }, "could not write the audit log"));
    return errorResponse(403, "forbidden", `${user.role} users may not do this (${permission})`);
  }
  // A change is recorded before it is made: if its entry cannot be written, it is not made.
  let auditId: bigint | null = null;
  if (entry) {
    try {
      auditId = await beginAudit(entry);
    } catch (error) {
      logger.error({ err: error }, "could not write the audit log");
      return errorResponse(503, "audit_unavailable", "the audit log cannot be written, so nothing was changed: try again later");
    }
  }
  let message = "";
  const response = await respond(async () => {
    const result = await work(user);
    message = options.summary?.(result) ?? "";
    return result;
  }, options.status ?? 200);
  if (auditId !== null) {
    if (response.status >= 400) message = ((await response.clone().json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? "";
    const outcome = response.status < 400 ? "ok" : response.status < 500 ? "refused" : "failed";
    await finishAudit(auditId, { outcome, status: response.status, message }).catch((error) => logger.error({ err: error, auditId: String(auditId) }, "could not record a change's outcome in the audit log"));
  }
  return response;
}
