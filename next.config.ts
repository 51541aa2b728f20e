import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Node-only libraries the route handlers use; Next bundles neither.
  serverExternalPackages: ["bullmq", "ioredis", "pino"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
