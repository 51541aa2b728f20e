/** The restore wizard's choices, and the API request they make. */
import type { RestoreInput } from "@/server/restore/submit-restore";

export interface ChosenAccount {
  id: string;
  email: string;
  server: string;
  deletedAt: string | null;
  /** The former name the search matched, shown so the person knows why this account. */
  matchedFormerName: string | null;
}

export type PointChoice =
  | { kind: "latest" }
  | { kind: "session"; label: string; type: "full" | "incremental" }
  | { kind: "time"; time: string }
  | { kind: "seq"; seq: number; note?: string; /** The time of that point, for the timeline's marker. */ at?: string };

export interface WizardOptions {
  skipDeletes: boolean;
  ignoreRedoErrors: boolean;
  backupOnlyRedo: boolean;
  noRedo: boolean;
  excludeBlobs: boolean;
  continueOnError: boolean;
  skipDeletedAccounts: boolean;
}

export interface WizardState {
  accounts: ChosenAccount[];
  point: PointChoice;
  target: { mode: "copy"; prefix: string } | { mode: "in-place"; confirmation: string };
  options: WizardOptions;
}

export const NO_OPTIONS: WizardOptions = {
  skipDeletes: false,
  ignoreRedoErrors: false,
  backupOnlyRedo: false,
  noRedo: false,
  excludeBlobs: false,
  continueOnError: false,
  skipDeletedAccounts: false,
};

/** A time typed into a datetime-local field is UTC here, like every time in the console. */
export function utcInput(value: string): string {
  return value.length === 16 ? `${value}:00Z` : value.endsWith("Z") ? value : `${value}Z`;
}

export function toRequest(state: WizardState, dryRun: boolean): RestoreInput {
  const p = state.point;
  return {
    server: state.accounts[0]?.server ?? "",
    accounts: state.accounts.map((a) => a.id),
    ...(p.kind === "session" && p.type === "full" ? { label: p.label } : {}),
    ...(p.kind === "session" && p.type === "incremental" ? { restoreToIncrLabel: p.label } : {}),
    ...(p.kind === "time" ? { restoreToTime: utcInput(p.time) } : {}),
    ...(p.kind === "seq" ? { restoreToRedoSeq: p.seq } : {}),
    ...(state.target.mode === "copy" ? { copy: true, prefix: state.target.prefix } : {}),
    ...Object.fromEntries(Object.entries(state.options).filter(([, on]) => on)),
    dryRun,
  };
}

export function copyName(prefix: string, email: string): string {
  const [local, domain] = email.split("@");
  return `${prefix}${local}@${domain}`;
}
