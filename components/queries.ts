"use client";

import { useQuery } from "@tanstack/react-query";
import type { AccountPage } from "@/server/directory/search-accounts";
import type { ServerSummary } from "@/server/directory/list-servers";
import type { HealthReport } from "@/server/health/check-health";
import type { JobSummary } from "@/server/jobs/list-jobs";
import type { AccountOverview } from "@/server/directory/account-overview";
import type { StoreStatus } from "@/server/mailstore/store-status";
import type { SessionDetail, SessionSummary } from "@/server/backup/query-sessions";
import { getJson } from "./api";

export function useServers() {
  return useQuery({ queryKey: ["servers"], queryFn: () => getJson<{ servers: ServerSummary[] }>("/api/servers").then((r) => r.servers) });
}

export function useServer(name: string) {
  return useQuery({ queryKey: ["servers", name], queryFn: () => getJson<ServerSummary>(`/api/servers/${encodeURIComponent(name)}`) });
}

export function useHealth() {
  return useQuery({ queryKey: ["health"], queryFn: () => getJson<HealthReport>("/api/health"), refetchInterval: 5_000 });
}

export function useJobs(state?: string, server?: string, filters: { name?: string; hideSystem?: boolean } = {}) {
  const params = new URLSearchParams({
    ...(state ? { state } : {}),
    ...(server ? { server } : {}),
    ...(filters.name ? { name: filters.name } : {}),
    ...(filters.hideSystem ? { hideSystem: "true" } : {}),
  });
  const query = params.size ? `?${params}` : "";
  return useQuery({
    queryKey: ["jobs", state ?? "all", server ?? "all", filters.name ?? "any", Boolean(filters.hideSystem)],
    queryFn: () => getJson<{ jobs: JobSummary[] }>(`/api/jobs${query}`).then((r) => r.jobs),
    refetchInterval: 2_000,
  });
}

export interface AccountQuery {
  q: string;
  server: string;
  status: string;
  kind?: string;
  page: number;
  pageSize: number;
}

export function useAccounts(query: AccountQuery) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== "" && value !== undefined) params.set(key, String(value));
  return useQuery({
    queryKey: ["accounts", query],
    queryFn: ({ signal }) => getJson<AccountPage>(`/api/accounts?${params}`, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function useStoreStatus(server: string) {
  return useQuery({
    queryKey: ["servers", server, "store"],
    queryFn: () => getJson<StoreStatus>(`/api/servers/${encodeURIComponent(server)}/store`),
    refetchInterval: 5_000,
  });
}

export type AccountPageData = AccountOverview;

export function useAccount(id: string) {
  return useQuery({ queryKey: ["accounts", id], queryFn: () => getJson<AccountPageData>(`/api/accounts/${encodeURIComponent(id)}`) });
}

export interface SessionFilters {
  server: string;
  type: string;
  status: string;
  account: string;
}

export function useSessions(filters: SessionFilters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return useQuery({
    queryKey: ["sessions", filters],
    queryFn: () => getJson<{ sessions: SessionSummary[]; total: number }>(`/api/sessions?${params}`),
    placeholderData: (previous) => previous,
    // Running sessions move: refresh while any is shown.
    refetchInterval: (query) => (query.state.data?.sessions.some((s) => s.status === "running" || s.status === "queued") ? 1_000 : 10_000),
  });
}

export function useSession(server: string, label: string, q: string) {
  const params = new URLSearchParams({ server, ...(q ? { q } : {}) });
  return useQuery({
    queryKey: ["sessions", server, label, q],
    queryFn: () => getJson<SessionDetail>(`/api/sessions/${encodeURIComponent(label)}?${params}`),
    placeholderData: (previous) => previous,
    refetchInterval: (query) => (["queued", "running"].includes(query.state.data?.status ?? "") ? 1_000 : false),
  });
}
