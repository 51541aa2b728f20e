/**
 * syncfs(2) of the filesystem holding a folder: everything written to it is on disk afterwards.
 * Node has no syncfs, so `sync -f` does it. Spawned from a worker process (hundreds of MiB
 * mapped), each `sync` cost about 17 ms of main-thread time to fork, and a group restore calls it
 * once per mailbox; so the forks are made by a small long-lived shell instead (one per folder
 * synced), which answers a line per request. Calls for a folder while its sync runs share the next one: a caller's sync
 * always starts after the call, and a burst of callers pays for two syncs, not one each.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { mkdir } from "node:fs/promises";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";

const HELPER = 'while IFS= read -r dir; do if sync -f -- "$dir" 2>/dev/null; then echo ok; else echo "failed $?"; fi; done';

type Helper = ChildProcessByStdio<Writable, Readable, null>;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One helper per folder synced, so a slow filesystem (a target on NFS) holds up only its own syncs. */
const helpers = new Map<string, { child: Helper; waiting: Waiter[] }>();

function startHelper(dir: string): { child: Helper; waiting: Waiter[] } {
  const child = spawn("sh", ["-c", HELPER], { stdio: ["pipe", "pipe", "ignore"] });
  const started = { child, waiting: [] as Waiter[] };
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const waiter = started.waiting.shift();
    if (started.waiting.length === 0) idle(child);
    if (line === "ok") waiter?.resolve();
    else waiter?.reject(new Error(`sync -f ${line}`));
  });
  const fail = (error: Error) => {
    if (helpers.get(dir) === started) helpers.delete(dir);
    for (const waiter of started.waiting.splice(0)) waiter.reject(error);
  };
  child.on("error", fail);
  child.on("exit", (code, signal) => fail(new Error(`the sync helper exited (${signal ?? code})`)));
  child.stdin.on("error", fail);
  idle(child);
  return started;
}

/** An idle helper does not keep the process alive; one with a request out does. (Its pipes are sockets.) */
function idle(child: Helper): void {
  child.unref();
  (child.stdout as Socket).unref();
  (child.stdin as Socket).unref();
}

function busy(child: Helper): void {
  child.ref();
  (child.stdout as Socket).ref();
  (child.stdin as Socket).ref();
}

function syncOnce(dir: string): Promise<void> {
  let helper = helpers.get(dir);
  if (!helper) helpers.set(dir, (helper = startHelper(dir)));
  const { child, waiting } = helper;
  return new Promise<void>((resolve, reject) => {
    waiting.push({ resolve, reject });
    busy(child);
    child.stdin.write(`${dir}\n`);
  });
}

/** Per folder: the sync running, and the one queued behind it that later callers share. */
const rounds = new Map<string, { current: Promise<void>; queued: Promise<void> | null }>();

export async function syncFilesystem(dir: string): Promise<void> {
  if (dir.includes("\n")) throw new Error(`cannot sync a folder whose name holds a line break: ${JSON.stringify(dir)}`);
  await mkdir(dir, { recursive: true });
  const round = rounds.get(dir);
  if (!round) return start(dir);
  // Writes made before this call may have missed the running sync: share the one after it.
  round.queued ??= round.current.catch(() => {}).then(() => start(dir));
  return round.queued;
}

function start(dir: string): Promise<void> {
  const current = syncOnce(dir);
  const round = { current, queued: null };
  rounds.set(dir, round);
  void current
    .catch(() => {})
    .then(() => {
      if (rounds.get(dir) === round) rounds.delete(dir);
    });
  return current;
}
