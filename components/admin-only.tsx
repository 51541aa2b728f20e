"use client";

import type { ReactNode } from "react";
import { EmptyState, Loading, TextLink } from "./ui";
import { useMe } from "./use-me";

/**
 * A page only admins may use: for anyone else it is not rendered at all (none of its requests is
 * made), and says so with a way back. The API refuses them anyway; this is what they see.
 */
export function AdminOnly({ what, children }: { what: string; children: ReactNode }) {
  const me = useMe();
  if (me.isPending) return <Loading rows={4} />;
  if (me.data?.role === "admin") return <>{children}</>;
  return (
    <EmptyState title={`${what} is for admins`}>
      Your role ({me.data?.role ?? "unknown"}) does not include it. <TextLink href="/">Back to the dashboard</TextLink>
    </EmptyState>
  );
}
