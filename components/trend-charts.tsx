"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { SessionPoint } from "@/server/health/dashboard-facts";
import { Card } from "./ui";

interface Point {
  label: string;
  when: string;
  storedMiB: number;
  seconds: number;
  dedup: number | null;
}

function points(history: SessionPoint[]): Point[] {
  return history.map((s) => ({
    label: s.label,
    when: s.endedAt.slice(5, 16).replace("T", " "),
    storedMiB: Math.round((s.bytesWritten / 2 ** 20) * 10) / 10,
    seconds: Math.round(s.seconds * 10) / 10,
    dedup: s.newBodyBytes > 0 ? Math.round((s.bodyBytes / s.newBodyBytes) * 100) / 100 : null,
  }));
}

function Chart({ title, data, dataKey, unit, colour }: { title: string; data: Point[]; dataKey: keyof Point; unit: string; colour: string }) {
  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 text-xs font-medium text-slate-600">{title}</figcaption>
      <div className="h-40 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
            <XAxis dataKey="when" tick={{ fontSize: 10 }} minTickGap={24} />
            <YAxis tick={{ fontSize: 10 }} width={44} unit={unit} />
            <Tooltip formatter={(value) => [`${value}${unit}`, title]} labelFormatter={(_, payload) => payload?.[0]?.payload?.label ?? ""} />
            <Line type="monotone" dataKey={dataKey} stroke={colour} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} connectNulls />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

/** Stored bytes, duration and dedup of a server's last sessions. */
export function TrendCharts({ server, history }: { server: string; history: SessionPoint[] }) {
  const data = points(history);
  return (
    <Card title={`${server}: the last ${history.length} sessions`} className="min-w-0">
      {data.length < 2 ? (
        <p className="text-sm text-slate-500">Trends appear after two sessions.</p>
      ) : (
        <div aria-label={`Trends of ${server}`} className="grid gap-4 md:grid-cols-3">
          <Chart title="Stored per session" data={data} dataKey="storedMiB" unit=" MiB" colour="#0284c7" />
          <Chart title="Duration" data={data} dataKey="seconds" unit=" s" colour="#7c3aed" />
          <Chart title="Dedup (bodies read / new)" data={data} dataKey="dedup" unit="x" colour="#059669" />
        </div>
      )}
    </Card>
  );
}
