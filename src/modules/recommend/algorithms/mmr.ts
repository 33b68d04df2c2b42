/**
 * Maximal marginal relevance: picks items one by one, trading relevance (λ) against similarity to what
 * was already picked (1 − λ). λ = 1 keeps the ranking unchanged; lower λ gives more varied lists.
 */
export function mmrRerank(
  candidates: readonly { item: number; score: number }[],
  k: number,
  lambda: number,
  similarity: (a: number, b: number) => number,
): { item: number; score: number }[] {
  if (lambda >= 1 || candidates.length <= 1) return candidates.slice(0, k);
  let max = 0;
  let min = Infinity;
  for (const c of candidates) {
    if (c.score > max) max = c.score;
    if (c.score < min) min = c.score;
  }
  const span = max - min || 1;
  const pool = candidates.map((c) => ({ ...c, rel: (c.score - min) / span, maxSim: 0 }));
  const picked: { item: number; score: number }[] = [];
  while (picked.length < k && pool.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    pool.forEach((c, x) => {
      const v = lambda * c.rel - (1 - lambda) * c.maxSim;
      if (v > bestValue) {
        bestValue = v;
        best = x;
      }
    });
    const [chosen] = pool.splice(best, 1);
    picked.push({ item: chosen!.item, score: chosen!.score });
    for (const c of pool) c.maxSim = Math.max(c.maxSim, similarity(c.item, chosen!.item));
  }
  return picked;
}

/**
 * `mmrRerank` over a pool given as typed arrays: the serving path, with no per-candidate objects.
 * `similarTo(x, visit)` calls `visit(y, similarity)` for the pool positions y similar to position x
 * (others count as 0); it is asked only about the items picked. Returns pool positions.
 */
export function mmrRerankPool(
  scores: Float64Array,
  k: number,
  lambda: number,
  similarTo: (x: number, visit: (y: number, similarity: number) => void) => void,
): number[] {
  const n = scores.length;
  if (lambda >= 1 || n <= 1) return Array.from({ length: Math.min(k, n) }, (_, x) => x);
  let max = 0;
  let min = Infinity;
  for (let x = 0; x < n; x++) {
    if (scores[x]! > max) max = scores[x]!;
    if (scores[x]! < min) min = scores[x]!;
  }
  const span = max - min || 1;
  const maxSim = new Float64Array(n);
  const taken = new Uint8Array(n);
  const picked: number[] = [];
  const visit = (y: number, v: number) => {
    if (v > maxSim[y]!) maxSim[y] = v;
  };
  while (picked.length < k && picked.length < n) {
    let best = -1;
    let bestValue = -Infinity;
    for (let x = 0; x < n; x++) {
      if (taken[x]) continue;
      const v = lambda * ((scores[x]! - min) / span) - (1 - lambda) * maxSim[x]!;
      if (v > bestValue) {
        bestValue = v;
        best = x;
      }
    }
    taken[best] = 1;
    picked.push(best);
    if (picked.length < k) similarTo(best, visit);
  }
  return picked;
}
