/**
 * A value made on the first call and kept: here, libraries that take a noticeable time to load
 * (the S3 SDK, the MIME parser and the HTML sanitiser) and that most processes never use. Loaded
 * statically, each would add its load time to every CLI call and worker start.
 *
 * The module system would hand back a loaded module on every `import()`, but not cheaply: under
 * tsx's loader hooks an `import()` of a loaded module took 0.56 ms (measured), which a delivery
 * would pay every time. The promise kept here costs nothing after the first call.
 */
export function onFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make());
}
