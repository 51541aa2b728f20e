/** Session labels, Zimbra's way: `full-YYYYMMDD.HHMMSS.mmm` / `incr-...`, in UTC. */
export type SessionType = "full" | "incremental";

export function sessionLabel(type: SessionType, at: Date): string {
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}`;
  return `${type === "full" ? "full" : "incr"}-${stamp}`;
}

const LABEL = /^(full|incr)-(\d{4})(\d{2})(\d{2})\.(\d{2})(\d{2})(\d{2})\.(\d{3})$/;

export function parseLabel(label: string): { type: SessionType; at: Date } | null {
  const m = LABEL.exec(label);
  if (!m) return null;
  const [, kind, y, mo, d, h, mi, s, ms] = m;
  return { type: kind === "full" ? "full" : "incremental", at: new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms!)) };
}
