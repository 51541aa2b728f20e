/**
 * The console's HTTP server: Next's own request handler behind a plain node:http server, so that
 * every request carries the address it really came from.
 *
 * `next start` passes a client's `X-Forwarded-For` through unchanged, so anyone could claim any
 * address. The sign-in lockout counts failures per email and client address (server/auth/users.ts),
 * which is only sound if the address cannot be forged: here it is the socket's peer, or, when
 * that peer is a proxy named in MAILVAULT_TRUSTED_PROXIES, the nearest address that proxy saw.
 */
import { createServer, type IncomingMessage } from "node:http";
import next from "next";
import { CLIENT_ADDRESS_HEADER } from "../server/auth/client-address.ts";

const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT ?? 3000);
/** `-H 127.0.0.1` listens on that address only, as `next start -H` does; by default, on all. */
const hostAt = process.argv.indexOf("-H");
const host = hostAt > 0 ? process.argv[hostAt + 1] : undefined;
const trusted = new Set((process.env.MAILVAULT_TRUSTED_PROXIES ?? "").split(",").map((a) => a.trim()).filter(Boolean));

/** The peer, or through trusted proxies the rightmost address none of them is. */
function clientAddress(request: IncomingMessage): string {
  const peer = normalise(request.socket.remoteAddress ?? "");
  if (!trusted.has(peer)) return peer;
  const hops = String(request.headers["x-forwarded-for"] ?? "").split(",").map((a) => normalise(a.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return peer;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
const normalise = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");

const app = next({ dev, port, hostname: host ?? "localhost" });
const handle = app.getRequestHandler();
await app.prepare();
createServer((request, response) => {
  const address = clientAddress(request);
  request.headers[CLIENT_ADDRESS_HEADER] = address;
  // What the handler sees as X-Forwarded-For is what this server decided, never what was sent.
  request.headers["x-forwarded-for"] = address;
  void handle(request, response);
})
  .on("error", (error) => {
    console.error(`[mailvault] the console cannot listen on port ${port}: ${error.message} (set PORT to another port)`);
    process.exit(1);
  })
  .listen(port, host, () => console.log(`[mailvault] console listening on ${host ?? "every address"}, port ${port}${dev ? " (development)" : ""}`));
