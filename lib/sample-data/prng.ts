/**
 * A small seeded PRNG (mulberry32) and seed derivation, so every generated value is a
 * pure function of the seed. Each part of the data set draws from its own stream
 * (`createPrng(deriveSeed(seed, "transactions"))`), so changing how one part is made
 * never shifts the values of another.
 */

export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Index drawn from cumulative weights (see `cumulativeWeights`). */
  pickWeighted(cumulative: Float64Array): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
}

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed for the named stream of a base seed (FNV-1a over the label, then mixed). */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ fmix32(seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h ^ (seed >>> 0));
}

export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let state = fmix32(seed >>> 0) | 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const prng: Prng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(next() * items.length)] as T;
    },
    pickWeighted: (cumulative) => pickCumulative(cumulative, next()),
    normal() {
      const u = 1 - next(); // (0, 1]
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(items: readonly T[]): T[] {
      const copy = items.slice();
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = copy[i] as T;
        copy[i] = copy[j] as T;
        copy[j] = tmp;
      }
      return copy;
    },
  };
  return prng;
}

/** Running sums of the weights, normalised so the last is 1. */
export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    if (!(w >= 0)) throw new RangeError(`weights must be >= 0, got ${w}`);
    sum += w;
    out[i] = sum;
  });
  if (sum <= 0) throw new RangeError("weights must not all be zero");
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  out[out.length - 1] = 1;
  return out;
}

/** The first index whose cumulative weight exceeds u (binary search). */
export function pickCumulative(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < (cumulative[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A bijection of [0, 10^digits): index -> a*index + b (mod 10^digits) with a coprime to
 * 10, so ids look scattered, are unique per index, and differ between seeds.
 */
export function idPermutation(seed: number, label: string, digits: number): (index: number) => number {
  if (digits < 1 || digits > 10) throw new RangeError("digits must be 1..10");
  const modulus = 10 ** digits;
  const prng = createPrng(deriveSeed(seed, `ids:${label}`));
  let a = Math.floor(prng.next() * modulus);
  while (a % 2 === 0 || a % 5 === 0) a = (a + 1) % modulus;
  const b = Math.floor(prng.next() * modulus);
  // a*index overflows 2^53 for 10 digits: split a into high and low 5-digit halves.
  const aHigh = Math.floor(a / 100_000);
  const aLow = a % 100_000;
  return (index: number): number => {
    if (index < 0 || index >= modulus || !Number.isInteger(index))
      throw new RangeError(`id index ${index} out of range`);
    const high = ((aHigh * index) % modulus) * 100_000;
    return ((high % modulus) + ((aLow * index) % modulus) + b) % modulus;
  };
}
