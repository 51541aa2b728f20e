#!/bin/sh
# Runs a command with the glibc settings every process that runs workers starts with.
#
# glibc gives each thread that allocates its own malloc arena (up to 8 per core), and the blob
# I/O threads, zlib and libuv's pool make many: measured on 100,000 blobs, a worker's peak RSS was
# 557 MiB (backup) and 568 MiB (restore) with the default, 449 and 499 MiB with two arenas, well
# under issue 11's 512 MiB bound. And glibc raises its mmap threshold each time a large block it
# mapped is freed, up to 32 MiB, after which a restore's 16 MiB spans and a backup's packs come
# from the arenas and leave them fragmented: a fixed threshold keeps every block that large
# mapped and gives it back when it is freed. Measured on 100,000 blobs (2026-12-06): backup
# 444-468 MiB -> 424, restore 483 -> 417, and 506 -> 427 after three restores and their
# follow-up fulls.
#
# The threshold is 4 MiB, not lower: the zstd binding allocates and frees 3.5 MiB for every blob
# it compresses and 2.4 MiB for every one it decompresses, whatever the blob's size. Below that
# size each was a fresh mapping, faulted in page by page and zeroed: at 1 MiB a compressed full of
# 322 MiB took 2.9-5.5 s against 1.7-2.5 s uncompressed, 5.7 s of it system time; at 4 MiB it
# took 1.85-2.13 s against 1.65-1.85 s (2026-12-07, bench:backup). Peak RSS on 100,000 blobs at
# 4 MiB: backup 452 MiB, restore 438, and 438 after three restores and their follow-up fulls.
#
# glibc reads these only when a process starts, so they cannot be set from inside it: this is
# the one place they are written. bin/mailvault-worker starts a worker through it, and so do
# `npm run worker`, `npm start` and the benches whose workers run in the bench process.
export MALLOC_ARENA_MAX=2
export MALLOC_MMAP_THRESHOLD_=4194304
exec "$@"
