/**
 * What makes a request's address unreadable before any route sees it: a path segment that is
 * not percent-encoded UTF-8 (`%ff`), or a NUL anywhere in the path or a query value (PostgreSQL
 * text cannot hold one). The proxy answers these with 400 for every API route at once, and
 * `handle` checks again, so no route turns them into a 500.
 */
export function malformedAddress(url: URL): string | null {
  for (const segment of url.pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return "the address is not valid percent-encoded UTF-8";
    }
    if (decoded.includes("\u0000")) return "the address holds a NUL character";
  }
  for (const [key, value] of url.searchParams) {
    if (key.includes("\u0000") || value.includes("\u0000")) return `the query parameter ${JSON.stringify(key.replaceAll("\u0000", ""))} holds a NUL character`;
  }
  return null;
}
