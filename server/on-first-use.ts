/**
 * A value made on the first call and kept (a failed attempt is not: the next call tries again).
 * Used for libraries that take a noticeable time to load and that most processes never use (the
 * S3 SDK in s3-backend.ts, the mail libraries in mail-libraries.ts), and for an S3 backend's
 * client. Loaded statically, each library would add its load time to every CLI call and worker
 * start.
 *
 * The module system would hand back a loaded module on every `import()`, but not cheaply: under
 * tsx's loader hooks an `import()` of a loaded module took 0.56 ms (measured), which a delivery
 * would pay every time. The promise kept here costs nothing after the first call.
 */
export interface Kept<T> {
  (): Promise<T>;
  /** The value made or being made, if any, now forgotten: the next call makes a new one. */
  take(): Promise<T> | null;
}

export function onFirstUse<T>(make: () => Promise<T>): Kept<T> {
  let made: Promise<T> | null = null;
  const get = () => {
    if (!made) {
      const attempt = make();
      made = attempt;
      attempt.catch(() => {
        if (made === attempt) made = null;
      });
    }
    return made;
  };
  return Object.assign(get, {
    take() {
      const taken = made;
      made = null;
      return taken;
    },
  });
}
