/**
 * Popularity with exponential time decay: the non-personalised mode and the cold-start fallback. The
 * score ignores the history on purpose, so it cannot leak anything about the shopper.
 */
import type { InteractionSet, Recommender } from './types.ts';

export type PopularityOptions = {
  /** Half-life of an interaction's weight in ms; Infinity counts every interaction fully. */
  halfLifeMs?: number;
  /** Reference time (epoch ms); defaults to the newest interaction. */
  now?: number;
  /** Count each user once per item (popularity by people, not by clicks). */
  distinctUsers?: boolean;
};

export function trainPopularity(data: InteractionSet, options: PopularityOptions = {}): Recommender {
  const halfLife = options.halfLifeMs ?? Infinity;
  let now = options.now ?? -Infinity;
  if (options.now === undefined) for (const t of data.times) if (t > now) now = t;
  const scores = new Float64Array(data.nItems);
  const seen = options.distinctUsers ? new Set<number>() : null;
  for (let e = 0; e < data.items.length; e++) {
    const item = data.items[e]!;
    if (seen) {
      const key = data.users[e]! * data.nItems + item;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const age = Math.max(0, now - data.times[e]!);
    const decay = Number.isFinite(halfLife) ? Math.pow(0.5, age / halfLife) : 1;
    scores[item]! += (seen ? 1 : data.weights[e]!) * decay;
  }
  return { name: 'popularity', nItems: data.nItems, score: () => scores.slice() };
}
