/**
 * The environment a worker process starts with, on top of the caller's. glibc gives each thread
 * that allocates its own malloc arena (up to 8 per core), and the blob I/O threads, zlib and
 * libuv's pool make many: measured on 100,000 blobs, a worker's peak RSS was 557 MiB (backup) and
 * 568 MiB (restore) with the default, 449 and 499 MiB with two arenas, well under issue 11's 512
 * MiB bound. glibc reads it only at process start, so it is set where a worker is spawned:
 * here for `npm start` and the worker processes of `bench:restore --worker-process`, in
 * package.json for `npm run worker`, `bench:backup` and `bench:restore` (whose workers run in the
 * bench process itself).
 */
export const WORKER_PROCESS_ENV: Record<string, string> = { MALLOC_ARENA_MAX: "2" };
