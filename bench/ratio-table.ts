/**
 * The one table a bench ends with: each measure issue 11 tracks, its value (a ratio, or seconds),
 * the absolute seconds it was computed from, and the bound the issue sets ("must reach").
 */

export interface Measure {
  measure: string;
  /** `ratio` is measured / baseline; `seconds` is measured alone. */
  kind: "ratio" | "seconds";
  measured: number;
  /** The denominator of a ratio, in seconds. */
  baseline?: number;
  /** The bound the value must stay at or under (issue 11, "must reach"). */
  mustReach?: number;
}

const value = (m: Measure) => (m.kind === "ratio" ? m.measured / m.baseline! : m.measured);
const format = (m: Measure, v: number) => (m.kind === "ratio" ? `${v.toFixed(v < 1 ? 3 : 2)}x` : `${v.toFixed(2)} s`);

export function printRatioTable(title: string, measures: Measure[]): void {
  const rows = measures.map((m) => {
    const v = value(m);
    return [
      m.measure,
      format(m, v),
      m.kind === "ratio" ? `${m.measured.toFixed(2)} s / ${m.baseline!.toFixed(2)} s` : `${m.measured.toFixed(2)} s`,
      m.mustReach === undefined ? "" : `<= ${format(m, m.mustReach)}`,
      m.mustReach === undefined ? "" : v <= m.mustReach ? "yes" : "no",
    ];
  });
  const header = ["measure", "value", "seconds", "must reach", "met"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}
