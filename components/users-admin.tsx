"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { getJson, sendJson } from "./api";
import { useMe } from "./use-me";
import { Badge, buttonClass, Card, EmptyState, ErrorState, ErrorText, inputClass, Loading, PageHeader, When } from "./ui";
import { DataGrid, type GridColumn } from "./data-grid";

interface UserRow {
  id: number;
  email: string;
  name: string;
  role: "admin" | "helpdesk";
  createdAt: string;
  disabled: boolean;
}

function AddUser() {
  const client = useQueryClient();
  const [form, setForm] = useState({ email: "", name: "", role: "helpdesk", password: "" });
  const add = useMutation({
    mutationFn: () => sendJson("POST", "/api/users", form),
    onSuccess: () => {
      setForm({ email: "", name: "", role: "helpdesk", password: "" });
      void client.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <Card title="Add a user" className="mb-6">
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="Add a user">
        <label className="flex flex-col gap-1 text-sm">
          Email
          <input type="email" required value={form.email} onChange={set("email")} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Name
          <input value={form.name} onChange={set("name")} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Role
          <select value={form.role} onChange={set("role")} className={inputClass}>
            <option value="helpdesk">helpdesk: reads, restores one account into a copy</option>
            <option value="admin">admin: everything</option>
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Password (10+ characters)
          <input type="password" required minLength={10} autoComplete="new-password" value={form.password} onChange={set("password")} className={inputClass} />
        </label>
        <button type="submit" disabled={add.isPending} className={buttonClass("primary")}>
          Add user
        </button>
      </form>
      <div className="mt-2">
        <ErrorText error={add.error} />
        {add.isSuccess && <p className="text-sm text-emerald-700">User added.</p>}
      </div>
    </Card>
  );
}

function UserActions({ user, self }: { user: UserRow; self: boolean }) {
  const client = useQueryClient();
  const [password, setPassword] = useState("");
  const change = useMutation({
    mutationFn: (body: { disabled?: boolean; password?: string }) => sendJson("PATCH", `/api/users/${encodeURIComponent(user.email)}`, body),
    onSuccess: () => {
      setPassword("");
      void client.invalidateQueries({ queryKey: ["users"] });
    },
  });
  return (
    <div className="flex flex-wrap items-center gap-2">
      {!self && (
        <button onClick={() => change.mutate({ disabled: !user.disabled })} disabled={change.isPending} className={buttonClass(user.disabled ? "secondary" : "danger")}>
          {user.disabled ? "Enable" : "Disable"}
        </button>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate({ password });
        }}
        className="flex items-center gap-1"
      >
        <input
          type="password"
          aria-label={`New password for ${user.email}`}
          placeholder="new password"
          autoComplete="new-password"
          minLength={10}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          className={`${inputClass} w-36`}
        />
        <button type="submit" disabled={change.isPending} className={buttonClass()}>
          Set
        </button>
      </form>
      <ErrorText error={change.error} />
    </div>
  );
}

function userColumns(self: string | undefined): GridColumn<UserRow>[] {
  return [
    {
      id: "user",
      header: "User",
      size: 320,
      sort: (u) => u.email,
      cell: (u) => (
        <span title={u.email}>
          <span className="font-medium">{u.email}</span>
          {u.name && <span className="ml-2 text-slate-500">{u.name}</span>}
        </span>
      ),
    },
    { id: "role", header: "Role", size: 110, sort: (u) => u.role, wrap: true, cell: (u) => <Badge tone={u.role === "admin" ? "violet" : "blue"}>{u.role}</Badge> },
    { id: "created", header: "Created", size: 190, sort: (u) => u.createdAt, className: "whitespace-nowrap text-slate-500", cell: (u) => <When iso={u.createdAt} /> },
    { id: "state", header: "State", size: 100, sort: (u) => (u.disabled ? 1 : 0), wrap: true, cell: (u) => (u.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>) },
    { id: "actions", header: "", srLabel: "Actions", size: 360, wrap: true, cell: (u) => <UserActions user={u} self={u.email === self} /> },
  ];
}

export function UsersAdmin() {
  const me = useMe();
  const users = useQuery({ queryKey: ["users"], queryFn: () => getJson<{ users: UserRow[] }>("/api/users").then((r) => r.users) });
  return (
    <>
      <PageHeader title="Users" subtitle="Who may sign in to the console. Helpdesk staff can read everything and restore one account into a prefixed copy; admins can do everything." />
      {me.data?.role === "admin" && <AddUser />}
      {users.isPending ? (
        <Loading rows={4} />
      ) : users.isError ? (
        <ErrorState error={users.error} retry={() => users.refetch()} />
      ) : users.data.length === 0 ? (
        <EmptyState title="No users yet" />
      ) : (
        <DataGrid label="Users" columns={userColumns(me.data?.email)} rows={users.data} rowKey={(u) => u.id} />
      )}
    </>
  );
}
