/**
 * A weighted blend of models. Each model's scores are scaled to [0, 1] by their maximum first, so a
 * weight means the same thing whatever the model's score range.
 */
import type { History, Recommender } from './types.ts';

export type Component = { model: Recommender; weight: number };

export function blend(name: string, components: readonly Component[]): Recommender {
  const nItems = components[0]?.model.nItems ?? 0;
  return {
    name,
    nItems,
    score: (history: History) => {
      const out = new Float64Array(nItems);
      for (const { model, weight } of components) {
        if (weight === 0) continue;
        const s = model.score(history);
        let max = 0;
        for (const v of s) if (v > max) max = v;
        if (max <= 0) continue;
        const f = weight / max;
        for (let i = 0; i < nItems; i++) if (s[i]! > 0) out[i]! += s[i]! * f;
      }
      return out;
    },
  };
}
