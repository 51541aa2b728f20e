import { notFound } from "next/navigation";

/** Any address no console page has: the console's own not-found page, inside the console. */
export default function Missing() {
  notFound();
}
