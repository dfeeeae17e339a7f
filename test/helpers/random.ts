/** A small seeded PRNG (mulberry32) for the fuzz tests: one stream per case, so any case reproduces from its seed. */

/** A well-mixed 32-bit value of two: the seed of case `b` in run `a`. */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be59b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** Mostly small lengths, sometimes larger ones. */
  length(max: number): number {
    return this.chance(0.8) ? this.int(Math.min(max, 48)) : this.int(max);
  }

  /** Printable ASCII, as an HTTP client may put in a header value or a path. */
  printable(length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(0x21 + this.int(94));
    return text;
  }
}
