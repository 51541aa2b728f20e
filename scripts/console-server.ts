/**
 * The console's HTTP server: Next's own request handler behind a plain node:http server, so that
 * every request carries the address it really came from.
 *
 * `next start` passes a client's `X-Forwarded-For` through unchanged, so anyone could claim any
 * address. The sign-in lockout counts failures per email and client address (server/auth/users.ts),
 * which is only sound if the address cannot be forged: here it is the socket's peer, or, when
 * that peer is a proxy named in MAILVAULT_TRUSTED_PROXIES, the nearest address that proxy saw.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import next from "next";
import { CLIENT_ADDRESS_HEADER } from "../server/auth/client-address.ts";

const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT ?? 3000);
/** `-H 127.0.0.1` listens on that address only, as `next start -H` does; by default, on all. */
const hostAt = process.argv.indexOf("-H");
const host = hostAt > 0 ? process.argv[hostAt + 1] : undefined;
/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
const normalise = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
const trusted = new Set((process.env.MAILVAULT_TRUSTED_PROXIES ?? "").split(",").map((a) => normalise(a.trim())).filter(Boolean));

/** The peer, or through trusted proxies the rightmost address none of them is. */
function clientAddress(request: IncomingMessage): string {
  const peer = normalise(request.socket.remoteAddress ?? "");
  if (!trusted.has(peer)) return peer;
  const hops = String(request.headers["x-forwarded-for"] ?? "").split(",").map((a) => normalise(a.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return peer;
}

/**
 * Next answers a method a route does not export with an empty 405; the API's callers get the
 * usual `{ error: { code, message } }` instead: the headers of a 405 are given this body's type
 * and length as they are written, and the body replaces Next's empty one.
 */
function answerMethodNotAllowedAsJson(method: string, path: string, response: ServerResponse): void {
  const body = JSON.stringify({ error: { code: "method_not_allowed", message: `${method} is not something ${path} does` } });
  const original = { writeHead: response.writeHead.bind(response), write: response.write.bind(response), end: response.end.bind(response) };
  let replacing = false;
  response.writeHead = ((status: number, ...rest: unknown[]) => {
    if (status === 405) {
      replacing = true;
      response.removeHeader("transfer-encoding");
      response.setHeader("content-type", "application/json");
      response.setHeader("content-length", Buffer.byteLength(body));
    }
    return (original.writeHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
  }) as ServerResponse["writeHead"];
  const callbackOf = (args: unknown[]) => args.find((a): a is () => void => typeof a === "function");
  // Next may set the status and end without writing the head itself (Node then writes it from
  // inside end, too late to change the length): write it here first, through the wrapper above.
  const headFirst = () => {
    if (!response.headersSent && response.statusCode === 405) response.writeHead(405);
  };
  response.write = ((...args: unknown[]) => {
    headFirst();
    if (!replacing) return (original.write as (...a: unknown[]) => boolean)(...args);
    callbackOf(args)?.();
    return true;
  }) as ServerResponse["write"];
  response.end = ((...args: unknown[]) => {
    headFirst();
    if (!replacing) return (original.end as (...a: unknown[]) => ServerResponse)(...args);
    return original.end(body, callbackOf(args));
  }) as ServerResponse["end"];
}


const app = next({ dev, port, hostname: host ?? "localhost" });
const handle = app.getRequestHandler();
await app.prepare();
/** An API answer in the API's own shape, from this server rather than a route. */
function refuse(response: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  // The unread body stays on the socket: the connection closes rather than draining it.
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" }).end(body);
}

const server = createServer((request, response) => {
  const address = clientAddress(request);
  request.headers[CLIENT_ADDRESS_HEADER] = address;
  // What the handler sees as X-Forwarded-For is what this server decided, never what was sent.
  request.headers["x-forwarded-for"] = address;
  const path = (request.url ?? "/").split("?")[0]!;
  if (path.startsWith("/api/")) {
    // The body cap (proxy.ts, 1 MiB) is decided from Content-Length before anything is read; a
    // body streamed without one could only be measured by reading it, so it is not taken.
    if (request.headers["transfer-encoding"] !== undefined && request.headers["content-length"] === undefined) {
      refuse(response, 411, "length_required", "send the body with a Content-Length (at most 1 MiB)");
      request.resume(); // read and dropped while the answer goes out; the connection then closes
      return;
    }
    answerMethodNotAllowedAsJson(request.method ?? "", path, response);
  }
  void handle(request, response);
})
  .on("error", (error) => {
    console.error(`[mailvault] the console cannot listen on port ${port}: ${error.message} (set PORT to another port)`);
    process.exit(1);
  })
  .listen(port, host, () => console.log(`[mailvault] console listening on ${host ?? "every address"}, port ${port}${dev ? " (development)" : ""}`));
// An idle keep-alive connection is closed after this long. Node's 5 s is shorter than many
// clients and proxies keep one: a request sent on it just as it closes fails with ECONNRESET (a
// browser test's did). Longer makes that rarer, for clients that keep one longer, not impossible.
server.keepAliveTimeout = 65_000;
