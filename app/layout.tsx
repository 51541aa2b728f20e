import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Mailvault", template: "%s · Mailvault" },
  description: "Backup and restore console for PostgreSQL mailbox servers",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <div className="min-h-screen lg:grid lg:grid-cols-[13rem_1fr]">
            <aside className="bg-slate-900 px-3 py-4 lg:min-h-screen">
              <div className="mb-6 flex items-center gap-2 px-3">
                <span aria-hidden className="grid h-7 w-7 place-items-center rounded bg-sky-500 text-sm font-bold text-white">
                  M
                </span>
                <span className="text-base font-semibold tracking-tight text-white">Mailvault</span>
              </div>
              <Nav />
            </aside>
            <main className="min-w-0 px-4 py-6 sm:px-8">{children}</main>
          </div>
        </Providers>
      </body>
    </html>
  );
}
