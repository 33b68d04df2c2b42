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
