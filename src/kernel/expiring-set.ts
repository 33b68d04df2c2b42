/**
 * Keys remembered for a while. Holders use it for the subjects this process erased lately, so work that
 * began before an erasure and finishes after it (a request being served, a page read before the delete)
 * does not write their data again. Expired keys go whenever keys are added.
 */
export type ExpiringSet = {
  add(keys: Iterable<string>): void;
  has(key: string | null): boolean;
};

export function createExpiringSet(ttlMs: number, now: () => number): ExpiringSet {
  const addedAt = new Map<string, number>();
  return {
    add(keys) {
      const t = now();
      for (const [key, at] of addedAt) if (t - at >= ttlMs) addedAt.delete(key);
      for (const key of keys) addedAt.set(key, t);
    },
    has(key) {
      if (key === null) return false;
      const at = addedAt.get(key);
      return at !== undefined && now() - at < ttlMs;
    },
  };
}
