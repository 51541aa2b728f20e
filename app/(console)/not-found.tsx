import Link from "next/link";

export default function NotFound() {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <h1 className="text-lg font-semibold text-slate-800">Not found</h1>
      <p className="mt-1 text-sm text-slate-600">No page of the console has this address.</p>
      <p className="mt-3 text-sm">
        <Link href="/" className="font-medium text-sky-700 hover:underline">
          Back to the dashboard
        </Link>
      </p>
    </div>
  );
}
