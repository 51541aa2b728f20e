/**
 * How long bringing a server back would take, from the last restore run that measured it: the
 * newest completed run on the server that restored at least MIN_MAILBOXES mailboxes (a group or
 * server rebuild, or a restore of many accounts), as seconds per mailbox from its start to its
 * end, scaled to the mailboxes the server has today and to one mailbox group of them. A run of a
 * few mailboxes says little about a disaster, so it does not count.
 */
import { consolePool } from "../db/console-db.ts";
import { getServer } from "../directory/list-servers.ts";

export const MIN_MAILBOXES = 5;

export interface ExpectedRecovery {
  server: string;
  /** Live accounts on the server now. */
  mailboxes: number;
  groups: number;
  measured: { run: string; endedAt: string; mailboxes: number; seconds: number; secondsPerMailbox: number } | null;
  /** Seconds, for every mailbox of the server and for one group's share of them; null until measured. */
  estimate: { server: number; group: number; groupMailboxes: number } | null;
}

export async function expectedRecovery(serverName: string): Promise<ExpectedRecovery> {
  const server = await getServer(serverName);
  const mailboxes = server.accounts.total - server.accounts.deleted;
  const groups = server.settings.mailboxGroups;
  const { rows } = await consolePool().query<{ label: string; ended_at: Date; restored: number; seconds: number }>(
    `SELECT label, ended_at, jsonb_array_length(result->'restored') AS restored,
            extract(epoch FROM ended_at - started_at)::float8 AS seconds
       FROM restore_run
      WHERE server = $1 AND status = 'completed' AND started_at IS NOT NULL AND ended_at IS NOT NULL
        AND jsonb_typeof(result->'restored') = 'array' AND jsonb_array_length(result->'restored') >= $2
      ORDER BY ended_at DESC LIMIT 1`,
    [server.name, MIN_MAILBOXES],
  );
  const run = rows[0];
  if (!run) return { server: server.name, mailboxes, groups, measured: null, estimate: null };
  const secondsPerMailbox = run.seconds / run.restored;
  const groupMailboxes = Math.ceil(mailboxes / groups);
  return {
    server: server.name,
    mailboxes,
    groups,
    measured: { run: run.label, endedAt: run.ended_at.toISOString(), mailboxes: run.restored, seconds: run.seconds, secondsPerMailbox },
    estimate: { server: secondsPerMailbox * mailboxes, group: secondsPerMailbox * groupMailboxes, groupMailboxes },
  };
}
