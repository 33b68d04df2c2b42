/**
 * Pseudonyms of recently seen ids, so a shopper's hundredth event does not cost another HMAC (the same
 * device id appears in every event of a session, and each event needs its pseudonym more than once).
 * Bounded: the oldest entry goes when the cache is full. It lives in process memory only, like the ids it
 * is computed from, and it holds nothing the pseudonymizer could not recompute.
 */
import type { Pseudonymizer } from '../../kernel/crypto.ts';

/** Longer values are hashed every time: caching them would let one request fill memory with big keys. */
const MAX_CACHED_VALUE = 256;

export function cachePseudonyms(pseudonymize: Pseudonymizer, capacity = 100_000): Pseudonymizer {
  const cache = new Map<string, string>();
  const limit = Math.max(1, capacity);
  return (namespace, value) => {
    if (value.length > MAX_CACHED_VALUE) return pseudonymize(namespace, value);
    const key = `${namespace}\u0000${value}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const pseudonym = pseudonymize(namespace, value);
    if (cache.size >= limit) cache.delete(cache.keys().next().value!);
    cache.set(key, pseudonym);
    return pseudonym;
  };
}
