"use client";

import { useState, type ReactNode } from "react";
import { buttonClass } from "./ui";

/**
 * A button whose action is asked once more, inline: "Abort full-…? [Keep it running] [Abort]".
 * For actions that cannot be taken back (aborting a backup or a restore).
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  cancelLabel = "Cancel",
  onConfirm,
  disabled,
  busy,
}: {
  label: ReactNode;
  question: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  onConfirm: () => void;
  disabled?: boolean;
  busy?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking || busy) {
    return (
      <button onClick={() => setAsking(true)} disabled={disabled || busy} className={buttonClass("danger")}>
        {label}
      </button>
    );
  }
  return (
    <span role="group" aria-label={confirmLabel} className="flex flex-wrap items-center justify-end gap-2 rounded-md border border-red-200 bg-red-50 px-3 py-1.5 text-sm text-red-900">
      <span>{question}</span>
      <button onClick={() => setAsking(false)} className={buttonClass()}>
        {cancelLabel}
      </button>
      <button
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        className={buttonClass("danger")}
      >
        {confirmLabel}
      </button>
    </span>
  );
}
