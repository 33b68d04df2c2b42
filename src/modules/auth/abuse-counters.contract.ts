/** One suite, two kinds of abuse counters: the process's own and Redis must count the same. */
import { describe, expect, it } from 'vitest';
import type { AbuseCounters, CounterLimits } from './abuse-counters.ts';

export function abuseCountersContract(
  name: string,
  open: (limits: CounterLimits) => Promise<AbuseCounters>,
): void {
  describe(`abuse counters: ${name}`, () => {
    const limits = { windowMs: 60_000, capacity: 50 };
    const unique = () => Math.random().toString(36).slice(2);

    it('counts hits and distinct values in a sliding window', async () => {
      const c = await open(limits);
      const w = `login:ip:${unique()}`;
      const t = 1_000_000;
      expect(await c.hit(w, t, 'acc_1', 1, true)).toEqual({ size: 1, distinct: 1 });
      expect(await c.hit(w, t + 10, 'acc_1', 1, true)).toEqual({ size: 2, distinct: 1 });
      expect(await c.hit(w, t + 20, 'acc_2', 1, true)).toEqual({ size: 3, distinct: 2 });
      // The first two hits leave the window; acc_1 is gone with them, acc_2 stays.
      expect(await c.hit(w, t + 60_015, 'acc_3', 1, true)).toEqual({ size: 2, distinct: 2 });
      expect(await c.hit(w, t + 200_000, 'acc_3', 1, true)).toEqual({ size: 1, distinct: 1 });
      await c.close();
    });

    it('adds several hits at once, keeps at most the capacity, and skips distinct values when not asked', async () => {
      const c = await open(limits);
      const w = `pii:${unique()}`;
      expect(await c.hit(w, 5_000, '', 20, false)).toEqual({ size: 20, distinct: 0 });
      expect(await c.hit(w, 5_001, '', 500, false)).toEqual({ size: 50, distinct: 0 });
      expect(await c.hit(`other:${unique()}`, 5_002, '', 1, false)).toEqual({ size: 1, distinct: 0 });
      await c.close();
    });

    it("measures a write key's requests against its usual volume", async () => {
      const c = await open(limits);
      const k = `src_${unique()}`;
      for (let i = 1; i <= 3; i++)
        expect(await c.keyRequest(k, 10_000 + i)).toEqual({ current: i, usual: 0 });
      // A new window: the last one (3 requests) is the usual volume now.
      expect(await c.keyRequest(k, 10_000 + 60_001)).toEqual({ current: 1, usual: 3 });
      expect(await c.keyRequest(k, 10_000 + 60_002)).toEqual({ current: 2, usual: 3 });
      await c.close();
    });

    it('lets one claim of an alert through per cool-down', async () => {
      const c = await open(limits);
      const a = `scraping:ip:${unique()}`;
      expect(await c.claimAlert(a, 1_000, 10_000)).toBe(true);
      expect(await c.claimAlert(a, 5_000, 10_000)).toBe(false);
      expect(await c.claimAlert(`scraping:ip:${unique()}`, 5_000, 10_000)).toBe(true);
      expect(await c.claimAlert(a, 11_000, 10_000)).toBe(true);
      expect(await c.claimAlert(a, 12_000, 10_000)).toBe(false);
      await c.close();
    });

    it('agrees with itself when two openings share the counters', async () => {
      const a = await open(limits);
      const b = await open(limits);
      const w = `login:all:${unique()}`;
      await a.hit(w, 1_000, 'ip_1', 1, true);
      const seen = await b.hit(w, 1_001, 'ip_2', 1, true);
      // Shared (Redis): both processes' hits; the process's own: only its own.
      expect([1, 2]).toContain(seen.distinct);
      if (name === 'redis') expect(seen).toEqual({ size: 2, distinct: 2 });
      await a.close();
      await b.close();
    });
  });
}
