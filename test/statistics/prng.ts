/** Seeded randomness for the simulation tests: the same seed gives the same experiments on every run. */
export type Rng = { next(): number; normal(): number; binomial(n: number, p: number): number };

/** mulberry32: fast, 32-bit state, good enough for Monte-Carlo checks of error rates. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = next();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * next();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  // Exact for small n·p (count of uniforms under p); normal approximation only when n·p·(1−p) is large.
  const binomial = (n: number, p: number): number => {
    if (n * p * (1 - p) > 50) {
      const x = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal());
      return Math.min(n, Math.max(0, x));
    }
    let k = 0;
    for (let i = 0; i < n; i++) if (next() < p) k++;
    return k;
  };
  return { next, normal, binomial };
}
