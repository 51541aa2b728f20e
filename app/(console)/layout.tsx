import type { ReactNode } from "react";
import { Nav } from "@/components/nav";
import { UserMenu } from "@/components/user-menu";

export default function ConsoleLayout({ children }: { children: ReactNode }) {
  return (
    <div className="min-h-screen lg:grid lg:grid-cols-[13rem_1fr]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-10 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <aside className="flex flex-col bg-slate-900 px-3 py-4 lg:sticky lg:top-0 lg:h-screen lg:self-start">
        <div className="mb-6 flex items-center gap-2 px-3">
          <span aria-hidden className="grid h-7 w-7 place-items-center rounded bg-sky-500 text-sm font-bold text-white">
            M
          </span>
          <span className="text-base font-semibold tracking-tight text-white">Mailvault</span>
        </div>
        <Nav />
        <UserMenu />
      </aside>
      <main id="main" className="min-w-0 px-4 py-6 sm:px-8">
        {children}
      </main>
    </div>
  );
}
