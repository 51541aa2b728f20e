/**
 * The order a blob I/O thread (blob-io.worker.mjs) serves requests in: as they come, at most
 * `atOnce` at a time, and an operation named in `alone` with nothing beside it. Plain JavaScript
 * for the thread; request-queue.d.mts types it.
 */
export function requestQueue({ atOnce, alone, serve }) {
  const waiting = [];
  let running = 0;
  let runningAlone = false;

  function startNext() {
    while (waiting.length && running < atOnce && !runningAlone && !(running > 0 && alone.has(waiting[0].op))) {
      const request = waiting.shift();
      runningAlone = alone.has(request.op);
      running++;
      serve(request)
        .catch(() => {}) // serve answers failures itself; the queue only goes on
        .finally(() => {
          running--;
          runningAlone = false;
          startNext();
        });
    }
  }

  return {
    push(request) {
      waiting.push(request);
      startNext();
    },
  };
}
