"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { SessionPoint } from "@/server/health/dashboard-facts";
import { Card } from "./ui";

interface Point {
  label: string;
  when: string;
  stored: number;
  seconds: number;
  dedup: number | null;
}

/** Stored bytes in the unit that suits the largest session: KiB, MiB or GiB. */
function storedUnit(history: SessionPoint[]): { unit: string; divisor: number } {
  const most = Math.max(0, ...history.map((s) => s.bytesWritten));
  return most >= 2 ** 30 ? { unit: " GiB", divisor: 2 ** 30 } : most >= 2 ** 20 ? { unit: " MiB", divisor: 2 ** 20 } : { unit: " KiB", divisor: 2 ** 10 };
}

function points(history: SessionPoint[], divisor: number): Point[] {
  return history.map((s) => ({
    label: s.label,
    when: s.endedAt.slice(5, 16).replace("T", " "),
    stored: Math.round((s.bytesWritten / divisor) * 10) / 10,
    seconds: Math.round(s.seconds * 10) / 10,
    // The share of the bodies it covered that were already stored: defined whenever it covered any.
    dedup: s.bodyBytes > 0 ? Math.round((1 - s.newBodyBytes / s.bodyBytes) * 1000) / 10 : null,
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
            <YAxis tick={{ fontSize: 10 }} width={60} unit={unit} />
            <Tooltip formatter={(value) => [`${value}${unit}`, title]} labelFormatter={(_, payload) => payload?.[0]?.payload?.label ?? ""} />
            <Line type="linear" dataKey={dataKey} stroke={colour} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} connectNulls />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

/** Stored bytes, duration and dedup of a server's last sessions. */
export function TrendCharts({ server, history }: { server: string; history: SessionPoint[] }) {
  const { unit, divisor } = storedUnit(history);
  const data = points(history, divisor);
  return (
    <Card title={history.length ? `${server}: the last ${history.length} sessions` : `${server}: no sessions yet`} className="min-w-0">
      {data.length < 2 ? (
        <p className="text-sm text-slate-500">Trends appear after two sessions.</p>
      ) : (
        <div aria-label={`Trends of ${server}`} className="grid gap-4 md:grid-cols-3">
          <Chart title="Stored per session" data={data} dataKey="stored" unit={unit} colour="#0284c7" />
          <Chart title="Duration" data={data} dataKey="seconds" unit=" s" colour="#7c3aed" />
          <Chart title="Dedup (bodies already stored)" data={data} dataKey="dedup" unit="%" colour="#059669" />
        </div>
      )}
    </Card>
  );
}
