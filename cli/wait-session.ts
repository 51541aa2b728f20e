/** `--wait`: a progress bar on stderr until the session ends; the exit status says how it ended. */
import { querySessions, type SessionSummary } from "../server/backup/query-sessions.ts";

function bar(s: SessionSummary): string {
  const total = Math.max(1, s.accountsTotal);
  const width = 30;
  const filled = Math.round((Math.min(s.accountsDone, total) / total) * width);
  const mb = (s.bytesWritten / 1048576).toFixed(1);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${s.accountsDone}/${s.accountsTotal} accounts, ${mb} MiB${s.currentAccount ? `, ${s.currentAccount}` : ""}`;
}

export async function waitForSession(server: string, label: string): Promise<SessionSummary> {
  const tty = process.stderr.isTTY;
  for (;;) {
    const [session] = (await querySessions({ server, label })).sessions;
    if (!session) throw new Error(`session ${label} disappeared from the catalog`);
    if (tty) process.stderr.write(`\r${session.status.padEnd(9)} ${bar(session)}`.padEnd(100));
    if (!["queued", "running"].includes(session.status)) {
      if (tty) process.stderr.write("\n");
      return session;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
