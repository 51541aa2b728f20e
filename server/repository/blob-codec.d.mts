/** Types of blob-codec.mjs. */
export function compressed(bytes: Buffer): Promise<Buffer | null>;
export function inflate(compression: string, stored: Buffer): Promise<Buffer>;
