/** One suite, two stores: the in-process buckets and Redis must behave the same. */
import { describe, expect, it } from 'vitest';
import type { RateLimitStore } from './rate-limit.ts';

export function rateLimitStoreContract(name: string, open: () => Promise<RateLimitStore>): void {
  describe(`rate-limit store: ${name}`, () => {
    const rule = { capacity: 3, refillPerSec: 1 };
    const key = () => `test:${Math.random().toString(36).slice(2)}`;

    it('allows up to capacity, then refuses with a Retry-After', async () => {
      const store = await open();
      const k = key();
      const t = 1_000_000;
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.take(k, rule, t));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results[3]!.retryAfterSec).toBe(1);
      await store.close();
    });

    it('refills over time, never above capacity', async () => {
      const store = await open();
      const k = key();
      for (let i = 0; i < 3; i++) await store.take(k, rule, 0);
      expect((await store.take(k, rule, 500)).allowed).toBe(false);
      expect((await store.take(k, rule, 1_600)).allowed).toBe(true);
      const later = await store.take(k, rule, 1_000_000);
      expect(later).toMatchObject({ allowed: true, remaining: 2 });
      await store.close();
    });

    it('keeps keys apart and forgets a reset key', async () => {
      const store = await open();
      const [a, b] = [key(), key()];
      for (let i = 0; i < 3; i++) await store.take(a, rule, 0);
      expect((await store.take(a, rule, 0)).allowed).toBe(false);
      expect((await store.take(b, rule, 0)).allowed).toBe(true);
      await store.reset(a);
      expect((await store.take(a, rule, 0)).allowed).toBe(true);
      await store.close();
    });

    it('admits exactly capacity when requests race', async () => {
      const store = await open();
      const k = key();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.take(k, { capacity: 5, refillPerSec: 0.001 }, 42)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      await store.close();
    });
  });
}
