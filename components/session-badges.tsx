import { Badge, type Tone } from "./ui";

const STATUS_TONE: Record<string, Tone> = { queued: "slate", running: "blue", completed: "green", passed: "green", identical: "green", different: "red", failed: "red", failing: "red", error: "red", partial: "amber", aborted: "amber", interrupted: "amber" };

export function SessionStatus({ status }: { status: string }) {
  return <Badge tone={STATUS_TONE[status] ?? "slate"}>{status}</Badge>;
}

export function SessionKind({ type, mode, excludeBlobs = false }: { type: string; mode: string; excludeBlobs?: boolean }) {
  return (
    <span className="inline-flex gap-1">
      <Badge tone={type === "full" ? "blue" : "slate"}>{type}</Badge>
      {mode === "auto_grouped" && <Badge tone="violet">auto-grouped</Badge>}
      {excludeBlobs && (
        <Badge tone="amber" title="backup --exclude-blobs: message bodies are not in this session; a restore from it needs them on the blob volume">
          metadata only
        </Badge>
      )}
    </span>
  );
}

export function ProgressBar({ done, total, label = "Accounts backed up" }: { done: number; total: number; label?: string }) {
  const pct = total > 0 ? Math.round((Math.min(done, total) / total) * 100) : 0;
  return (
    <div className="flex items-center gap-2" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={label}>
      <div className="h-2 w-full min-w-24 overflow-hidden rounded-full bg-slate-200">
        <div className="h-full rounded-full bg-sky-500 transition-all" style={{ width: `${pct}%` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-600">
        {done}/{total}
      </span>
    </div>
  );
}

/** The session's last verify: sound, damaged (with the first problem), or never. */
export function VerifyBadge({ verify }: { verify: { at: string; ok: boolean; problems: number; first: string | null } | null }) {
  if (!verify) return <span className="text-xs text-slate-400">never</span>;
  const when = verify.at.slice(0, 16).replace("T", " ");
  return verify.ok ? (
    <Badge tone="green" title={`verified ${when} UTC`}>
      verified {when.slice(5, 10)}
    </Badge>
  ) : (
    <Badge tone="red" title={`${verify.problems} problem(s) found ${when} UTC${verify.first ? `: ${verify.first}` : ""}`}>
      damaged
    </Badge>
  );
}
