"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useMe } from "./use-me";

const LINKS = [
  { href: "/", label: "Dashboard" },
  { href: "/servers", label: "Servers" },
  { href: "/sessions", label: "Sessions" },
  { href: "/accounts", label: "Accounts" },
  { href: "/restore", label: "Restore" },
  { href: "/restores", label: "Restore runs" },
  { href: "/drills", label: "Restore drills" },
  { href: "/redo", label: "Redo browser" },
  { href: "/jobs", label: "Jobs" },
  { href: "/schedules", label: "Schedules", admin: true },
  { href: "/users", label: "Users", admin: true },
  { href: "/audit", label: "Audit log", admin: true },
];

export function Nav() {
  const pathname = usePathname();
  const me = useMe();
  const isAdmin = me.data?.role === "admin";
  return (
    <nav aria-label="Main" className="flex flex-wrap gap-0.5 lg:flex-col">
      {LINKS.filter((l) => !l.admin || isAdmin).map(({ href, label }) => {
        const active = href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
        return (
          <Link
            key={href}
            href={href}
            aria-current={active ? "page" : undefined}
            className={`rounded-md px-3 py-2 text-sm font-medium outline-none focus-visible:ring-2 focus-visible:ring-sky-400 ${
              active ? "bg-slate-800 text-white" : "text-slate-300 hover:bg-slate-800/60 hover:text-white"
            }`}
          >
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
