import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Node-only libraries the route handlers use, loaded from node_modules at run time, never
  // bundled (zstd is a native addon, which Turbopack cannot place in a chunk).
  serverExternalPackages: ["bullmq", "ioredis", "pino", "@mongodb-js/zstd"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
