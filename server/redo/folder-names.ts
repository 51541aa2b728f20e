/**
 * Folder names and paths as they were at a redo record, for records that name folders only by
 * id. Learned from the folder events the reader sees (CreateFolder, RenameFolder, folders moved
 * or deleted, which record the name and parent they had), falling back to the mailbox's current
 * folders and then to the fixed system folders. The state of folder F just before record S is
 * what the newest event before S left, or, when none was seen, what the oldest event from S on
 * found (a rename records the old name, a deletion the name it had).
 */
import type { Mailstore } from "../mailstore/mailstore.ts";
import { ROOT, SYSTEM_FOLDERS } from "../mailstore/items.ts";
import { groupSchema } from "../mailstore/schema.ts";
import type { RedoRecord } from "./segment-format.ts";

interface FolderState {
  name: string;
  parentId: number | null;
}

interface FolderEvent {
  seq: number;
  before: FolderState | null;
  after: FolderState | null;
}

type P = Record<string, unknown>;
const list = (v: unknown) => (Array.isArray(v) ? (v as P[]) : []);

export class FolderNames {
  private readonly events = new Map<string, FolderEvent[]>();
  private readonly current = new Map<string, Map<number, FolderState>>();

  private add(accountId: string, folderId: unknown, event: FolderEvent): void {
    const key = `${accountId}/${String(folderId)}`;
    const events = this.events.get(key) ?? [];
    events.push(event);
    this.events.set(key, events);
  }

  /** Learns from one record (any order). */
  observe(record: RedoRecord): void {
    const p = record.payload as P;
    const seq = record.seq;
    if (record.op === "CreateFolder") this.add(record.accountId, p.itemId, { seq, before: null, after: { name: String(p.name), parentId: Number(p.parentId) } });
    if (record.op === "RenameFolder") {
      this.add(record.accountId, p.itemId, {
        seq,
        before: { name: String(p.oldName), parentId: Number(p.oldParentId) },
        after: { name: String(p.name), parentId: Number(p.parentId) },
      });
    }
    if (record.op === "MoveItems") {
      for (const m of list(p.moved)) {
        if (m.type === "folder") this.add(record.accountId, m.id, { seq, before: { name: String(m.name), parentId: Number(m.from) }, after: { name: String(m.name), parentId: Number(p.folderId) } });
      }
    }
    for (const d of list(p.deleted)) {
      if (d.type === "folder") this.add(record.accountId, d.id, { seq, before: { name: String(d.name), parentId: Number(d.folderId) }, after: null });
    }
  }

  /** Loads the current folders of these accounts' mailboxes (those that still have one). */
  async loadCurrent(store: Mailstore, accountIds: string[]): Promise<void> {
    const wanted = accountIds.filter((id) => !this.current.has(id));
    if (wanted.length === 0) return;
    const { rows: boxes } = await store.pool.query<{ id: number; account_id: string; group_id: number }>(
      "SELECT id, account_id, group_id FROM mailstore.mailbox WHERE account_id = ANY($1::uuid[])",
      [wanted],
    );
    for (const id of wanted) this.current.set(id, new Map());
    const groups = new Map<number, typeof boxes>();
    for (const b of boxes) groups.set(b.group_id, [...(groups.get(b.group_id) ?? []), b]);
    for (const [group, members] of groups) {
      const { rows } = await store.pool.query<{ mailbox_id: number; id: number; name: string; parent_id: number | null }>(
        `SELECT mailbox_id, id, name, parent_id FROM ${groupSchema(group)}.item WHERE type = 'folder' AND mailbox_id = ANY($1::bigint[])`,
        [members.map((m) => m.id)],
      );
      for (const r of rows) this.current.get(members.find((m) => m.id === r.mailbox_id)!.account_id)!.set(r.id, { name: r.name, parentId: r.parent_id });
    }
  }

  private stateAt(accountId: string, folderId: number, seq: number): FolderState | null {
    const system = SYSTEM_FOLDERS.find((f) => f.id === folderId);
    if (system) return { name: system.name, parentId: system.parentId };
    const events = [...(this.events.get(`${accountId}/${folderId}`) ?? [])].sort((a, b) => a.seq - b.seq);
    const earlier = events.filter((e) => e.seq < seq).at(-1);
    if (earlier) return earlier.after ?? earlier.before;
    const later = events.find((e) => e.seq >= seq);
    if (later?.before) return later.before;
    return this.current.get(accountId)?.get(folderId) ?? null;
  }

  /** `/Inbox/Projects` as it was just before record `seq`; null when nothing says. */
  pathAt(accountId: string, folderId: number | null | undefined, seq: number): string | null {
    if (folderId === null || folderId === undefined || !Number.isFinite(folderId)) return null;
    const parts: string[] = [];
    let id: number | null = folderId;
    for (let depth = 0; id !== null && id !== ROOT && depth < 64; depth++) {
      const state = this.stateAt(accountId, id, seq);
      if (!state) {
        if (parts.length === 0) return null;
        parts.unshift(`(folder ${id})`);
        break;
      }
      parts.unshift(state.name);
      id = state.parentId;
    }
    return `/${parts.join("/")}`;
  }
}
