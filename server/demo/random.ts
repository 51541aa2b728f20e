/** A small seeded PRNG (mulberry32), so a traffic run with the same seed makes the same choices. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Index 0..n-1, skewed so low indexes come up more often (a few busy mailboxes, many quiet ones). */
  skewed(n: number, skew = 1.6): number {
    return Math.min(n - 1, Math.floor(n * Math.pow(this.next(), skew)));
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    const words = Math.floor(length / 4);
    for (let i = 0; i < words; i++) out.writeUInt32LE((this.next() * 4294967296) >>> 0, i * 4);
    for (let i = words * 4; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}
