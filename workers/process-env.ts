/**
 * The environment a worker process starts with, on top of the caller's. glibc gives each thread
 * that allocates its own malloc arena (up to 8 per core), and the blob I/O threads, zlib and
 * libuv's pool make many: measured on 100,000 blobs, a worker's peak RSS was 557 MiB (backup) and
 * 568 MiB (restore) with the default, 449 and 499 MiB with two arenas, well under issue 11's 512
 * MiB bound. And glibc raises its mmap threshold each time a large block it mapped is freed, up
 * to 32 MiB, after which a restore's 16 MiB spans and a backup's packs come from the arenas and
 * leave them fragmented: a fixed threshold of 1 MiB keeps every block that large mapped and gives
 * it back when it is freed. Measured on 100,000 blobs (2026-12-06): backup 444-468 MiB -> 424,
 * restore 483 -> 417, and 506 -> 427 after three restores and their follow-up fulls.
 * glibc reads these only at process start, so they are set where a worker is spawned:
 * here for `npm start` and the worker processes of `bench:restore --worker-process`, in
 * package.json for `npm run worker`, `bench:backup` and `bench:restore` (whose workers run in the
 * bench process itself).
 */
export const WORKER_PROCESS_ENV: Record<string, string> = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "1048576" };
