/**
 * GET /api/metrics as Prometheus scrapes it: off (404) without MAILVAULT_METRICS_TOKEN, 401 with
 * a wrong token, and with the right one a text exposition whose values are the catalog's after a
 * real backup and restore, through real workers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "@/workers/start-workers.ts";
import { resetConfig } from "@/server/config.ts";
import { prisma } from "@/server/db/console-db.ts";
import { redoStatus } from "@/server/mailstore/store-status.ts";
import { useMailServer } from "@/server/testing/mail-server-fixture.ts";
import { runBackup, runRestore } from "@/server/testing/wait-for-runs.ts";
import { GET } from "./route.ts";

const TOKEN = "scrape-me-please-0123456789";
const fx = useMailServer({ accounts: { prefix: "metric", count: 3 }, traffic: { ops: 120, seed: 51 }, workers: startWorkers });

beforeAll(() => {
  delete process.env.MAILVAULT_METRICS_TOKEN;
  resetConfig();
});
afterAll(() => {
  delete process.env.MAILVAULT_METRICS_TOKEN;
  resetConfig();
});

const scrape = (authorization?: string) => GET(new Request("http://localhost/api/metrics", { headers: authorization ? { authorization } : {} }));

/** `name{a="b",c="d"} value` lines, keyed by name and sorted labels. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    expect(match, line).not.toBeNull();
    const labels = (match![3] ?? "").split(/,(?=[a-z_]+=")/).filter(Boolean).sort().join(",");
    samples.set(`${match![1]}{${labels}}`, Number(match![4]));
  }
  return samples;
}

describe("GET /api/metrics", () => {
  it("answers 404 while no token is set, and 401 to a wrong or missing token", async () => {
    const off = await scrape(`Bearer ${TOKEN}`);
    expect(off.status).toBe(404);
    expect((await off.json()).error.code).toBe("not_found");
    process.env.MAILVAULT_METRICS_TOKEN = TOKEN;
    resetConfig();
    for (const wrong of [undefined, "Bearer nope", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const denied = await scrape(wrong);
      expect(denied.status, wrong).toBe(401);
      expect((await denied.json()).error.code).toBe("bad_token");
    }
  });

  it("gives the catalog's figures after a full, an incremental and a restore", async () => {
    await runBackup("mail1", "full");
    await runBackup("mail1", "incremental");
    await runRestore({ server: "mail1", accounts: [fx.accounts[0]!.email], copy: true, prefix: "m_" });
    const response = await scrape(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parse(await response.text());

    const ended = await prisma().backupSession.findMany({ where: { status: "completed" }, orderBy: { endedAt: "desc" } });
    const newest = (type: "full" | "incremental") => ended.find((s) => s.type === type)!;
    expect(m.get('mailvault_last_backup_timestamp_seconds{server="mail1",type="full"}')).toBe(newest("full").endedAt!.getTime() / 1000);
    expect(m.get('mailvault_last_backup_timestamp_seconds{server="mail1",type="incremental"}')).toBe(newest("incremental").endedAt!.getTime() / 1000);
    const fulls = ended.filter((s) => s.type === "full").length;
    expect(m.get('mailvault_backup_sessions_total{server="mail1",status="completed",type="full"}')).toBe(fulls);
    expect(m.get('mailvault_backup_sessions_total{server="mail1",status="completed",type="incremental"}')).toBe(1);
    expect(m.get('mailvault_restore_runs_total{server="mail1",status="completed"}')).toBe(1);
    const last = ended[0]!;
    expect(m.get(`mailvault_last_session_bytes_written{server="mail1",status="completed",type="${last.type}"}`)).toBe(Number(last.bytesWritten));
    expect(m.get('mailvault_workers_alive{server="mail1"}')).toBe(1);
    expect(m.get('mailvault_workers_alive{server="mail2"}')).toBe(0);
    const redo = await redoStatus(fx.store);
    expect(m.get('mailvault_redo_sequence{server="mail1"}')).toBeGreaterThanOrEqual(redo.lastArchivedSeq);
    expect(m.get('mailvault_redo_archive_lag_records{server="mail1"}')).toBeGreaterThanOrEqual(0);
    expect(m.get('mailvault_target_free_bytes{server="mail1"}')).toBeGreaterThan(0);
    expect(m.get('mailvault_jobs{server="mail1",state="failed"}')).toBe(0);
    // No schedule on either server: the red flag the dashboard shows, for an alert rule to see.
    expect(m.get('mailvault_risk_flag{code="no_schedule",server="mail1"}')).toBe(1);
    expect(m.get('mailvault_risk_flag{code="no_recent_full",server="mail1"}')).toBeUndefined();
    expect(m.get('mailvault_risk_flag{code="no_recent_full",server="mail2"}')).toBe(1);
    expect(m.get('mailvault_newest_recoverable_point_timestamp_seconds{server="mail1"}')).toBeGreaterThanOrEqual(newest("incremental").endedAt!.getTime() / 1000);
  });
});
