"use client";

import { useQuery } from "@tanstack/react-query";
import type { ExpectedRecovery } from "@/server/restore/expected-recovery";
import { getJson } from "./api";
import { Card, ErrorText, Field, formatDuration, TextLink, When } from "./ui";

/** The server's expected recovery time, from the last restore run of many mailboxes. */
export function RecoveryCard({ server }: { server: string }) {
  const recovery = useQuery({
    queryKey: ["servers", server, "recovery"],
    queryFn: () => getJson<ExpectedRecovery>(`/api/servers/${encodeURIComponent(server)}/recovery`),
  });
  const r = recovery.data;
  return (
    <Card title="Expected recovery time">
      {recovery.isError && <ErrorText error={recovery.error} />}
      {r && !r.measured && (
        <p className="text-sm text-slate-600">
          Not measured yet. A restore of 5 or more mailboxes on this server (a mailbox group, the whole server, or many accounts at once) measures it.
        </p>
      )}
      {r?.measured && r.estimate && (
        <dl aria-label="Expected recovery time">
          <Field label={`Whole server (${r.mailboxes} mailboxes)`}>about {formatDuration(Math.round(1000 * r.estimate.server))}</Field>
          <Field label={`One mailbox group (about ${r.estimate.groupMailboxes})`}>about {formatDuration(Math.round(1000 * r.estimate.group))}</Field>
          <Field label="Measured by">
            <TextLink href={`/restores/${encodeURIComponent(r.measured.run)}`}>{r.measured.run}</TextLink>
            <span className="text-slate-500">
              {" "}
              — {r.measured.mailboxes} mailboxes in {formatDuration(Math.round(1000 * r.measured.seconds))}, {formatDuration(Math.round(1000 * r.measured.secondsPerMailbox))} each, ended{" "}
              <When iso={r.measured.endedAt} />
            </span>
          </Field>
        </dl>
      )}
    </Card>
  );
}
