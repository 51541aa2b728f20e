/**
 * The address a request came from, as the console's own server (scripts/console-server.ts) set
 * it: that server overwrites this header on every request, so a client cannot choose it. Behind
 * another server (a bare `next start`), it is absent and every client counts as one, "unknown".
 */
export const CLIENT_ADDRESS_HEADER = "x-mailvault-client-address";

export function clientAddressOf(request: Request): string {
  return request.headers.get(CLIENT_ADDRESS_HEADER) || "unknown";
}
