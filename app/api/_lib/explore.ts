/**
 * What the mail-reading routes share: the point read (`?label=` or `?at=`, or a session in the
 * path), a 202 while a worker makes the backup readable, and file answers.
 */
import { NextResponse } from "next/server";
import { mailSource, type MailSource, type PointInput } from "@/server/explore/views.ts";
import { InvalidInputError } from "@/server/errors.ts";

export function pointOf(request: Request, label?: string): PointInput {
  const query = new URL(request.url).searchParams;
  return { label: label ?? query.get("label") ?? undefined, at: query.get("at") ?? undefined };
}

export function itemIdOf(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new InvalidInputError(`message ids are whole numbers, not ${raw.slice(0, 40)}`);
  return Number(raw);
}

/** The source, or the 202 answer to return while it is prepared. */
export async function sourceOr202(accountId: string, point: PointInput): Promise<MailSource | NextResponse> {
  const source = await mailSource(accountId, point, { waitMs: 15_000 });
  return "state" in source ? NextResponse.json(source, { status: 202, headers: { "retry-after": "1" } }) : source;
}

/** `attachment; filename=…` with the name both plain (ASCII) and exact (RFC 5987). */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  // A name with a lone surrogate cannot be percent-encoded: the plain name alone then.
  const exact = (() => {
    try {
      return `; filename*=UTF-8''${encodeURIComponent(filename)}`;
    } catch {
      return "";
    }
  })();
  return `attachment; filename="${ascii}"${exact}`;
}
