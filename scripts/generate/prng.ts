// A small seeded PRNG (sfc32, seeded through splitmix32) so generated data is reproducible across
// machines and Node versions; Math.random is neither seedable nor stable. One generator per
// (seed, Id, stream) keeps every row independent of the others: rows can be generated in any order
// or in parallel and the files of one seed agree on every Id.

/** 32-bit hash of a seed given as a number or any string (FNV-1a, then a final avalanche). */
export function hashSeed(seed: string | number): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return avalanche(h);
}

function avalanche(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is a 32-bit hash (hashSeed); `id` and `stream` select an independent sequence. */
  constructor(seed: number, id = 0, stream = 0) {
    // splitmix32 spreads the three inputs over sfc32's 128-bit state.
    let s = (seed ^ Math.imul(id | 0, 0x9e3779b9) ^ Math.imul((id / 0x100000000) | 0, 0x7f4a7c15)) >>> 0;
    s = (s + Math.imul(stream + 1, 0x632be5ab)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      return avalanche(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}
