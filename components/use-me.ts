"use client";

import { useQuery } from "@tanstack/react-query";
import type { SessionUser } from "@/server/auth/users";
import { getJson } from "./api";

/** The signed-in user; pages use the role only to hide what the API would refuse anyway. */
export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: () => getJson<{ user: SessionUser }>("/api/me").then((r) => r.user),
    staleTime: 60_000,
  });
}

export function useIsAdmin(): boolean {
  return useMe().data?.role === "admin";
}
