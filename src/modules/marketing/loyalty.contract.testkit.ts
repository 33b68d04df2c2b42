/**
 * Loyalty behaviour every state store must show (SQLite here, PostgreSQL in the server suite), through the
 * HTTP API: earning by rule, idempotency, redemption that never overdraws — also under parallel requests —,
 * refunds, expiry, farming holds, and a ledger whose postings always balance.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_PERMS, type MarketingHarness } from './marketing.testkit.ts';

export function loyaltyContract(name: string, open: () => Promise<MarketingHarness>): void {
  describe(`loyalty ledger (${name})`, () => {
    let h: MarketingHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.close();
    });

    const earn = (body: Record<string, unknown>) => h.request('/v1/loyalty/earn', { body, perms: ALL_PERMS });
    const balance = async (user: string) =>
      ((await (await h.request('/v1/me/loyalty', { shopper: user })).json()) as { balance: number }).balance;
    const redeem = (user: string, points: number, key: string) =>
      h.request('/v1/me/loyalty/redeem', { shopper: user, body: { points, idempotencyKey: key } });
    const verify = async () =>
      (await (await h.request('/v1/loyalty/verify', { perms: ALL_PERMS })).json()) as { ok: boolean };

    it('earns for a purchase once per idempotency key and redeems for a coupon', async () => {
      const first = await earn({
        rule: 'purchase',
        userId: 'c1',
        idempotencyKey: 'o-1',
        orderId: 'o-1',
        amountMinor: 12_345,
      });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ points: 123, status: 'posted', replayed: false });
      const again = await earn({
        rule: 'purchase',
        userId: 'c1',
        idempotencyKey: 'o-1',
        orderId: 'o-1',
        amountMinor: 12_345,
      });
      expect(await again.json()).toMatchObject({ points: 123, replayed: true });
      expect(await balance('c1')).toBe(123);

      const r = await redeem('c1', 100, 'r-1');
      expect(r.status).toBe(200);
      const body = (await r.json()) as { coupon: { code: string; valueMinor: number }; balance: number };
      expect(body.coupon.code).toMatch(/^PTS-/);
      expect(body.coupon.valueMinor).toBe(100);
      expect(body.balance).toBe(23);
      // A retried redemption returns the same coupon and does not spend twice.
      const retry = (await (await redeem('c1', 100, 'r-1')).json()) as { coupon: { code: string } };
      expect(retry.coupon.code).toBe(body.coupon.code);
      expect(await balance('c1')).toBe(23);

      const over = await redeem('c1', 24, 'r-2');
      expect(over.status).toBe(409);
      expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(
        /Not enough points/,
      );
      expect(await balance('c1')).toBe(23);
      expect((await verify()).ok).toBe(true);
    });

    it('never goes negative under parallel redemptions (property)', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 500 }),
          fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 2, maxLength: 12 }),
          async (earned, asks) => {
            const user = `p${run++}`;
            if (earned > 0)
              await earn({
                rule: 'purchase',
                userId: user,
                idempotencyKey: `${user}-o`,
                orderId: `${user}-o`,
                amountMinor: earned * 100,
              });
            const results = await Promise.all(asks.map((p, i) => redeem(user, p, `${user}-r${i}`)));
            const statuses = results.map((r) => r.status);
            expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
            const spent = asks.filter((_, i) => statuses[i] === 200).reduce((a, b) => a + b, 0);
            const left = await balance(user);
            expect(left).toBeGreaterThanOrEqual(0);
            expect(left).toBe(earned - spent);
            // Every refused ask was really unaffordable at that point: nothing was refused wrongly at the end.
            const refused = asks.filter((_, i) => statuses[i] === 409);
            if (refused.length > 0) expect(Math.min(...refused)).toBeGreaterThan(left);
          },
        ),
        { numRuns: 15, seed: 42 },
      );
      expect((await verify()).ok).toBe(true);
    });

    it('parallel retries of one idempotency key spend once', async () => {
      await earn({
        rule: 'purchase',
        userId: 'c2',
        idempotencyKey: 'o-2',
        orderId: 'o-2',
        amountMinor: 50_000,
      });
      const rs = await Promise.all(Array.from({ length: 8 }, () => redeem('c2', 100, 'same')));
      expect(rs.every((r) => r.status === 200)).toBe(true);
      const codes = new Set(
        await Promise.all(
          rs.map(async (r) => ((await r.json()) as { coupon: { code: string } }).coupon.code),
        ),
      );
      expect(codes.size).toBe(1);
      expect(await balance('c2')).toBe(400);
    });

    it('refunds reverse earned points, down to zero when some were spent', async () => {
      await earn({
        rule: 'purchase',
        userId: 'c3',
        idempotencyKey: 'o-3',
        orderId: 'o-3',
        amountMinor: 20_000,
      });
      await earn({
        rule: 'purchase',
        userId: 'c3',
        idempotencyKey: 'o-4',
        orderId: 'o-4',
        amountMinor: 10_000,
      });
      expect(await balance('c3')).toBe(300);
      const r = await h.request('/v1/loyalty/refunds', {
        perms: ALL_PERMS,
        body: { orderId: 'o-4', idempotencyKey: 'rf-4' },
      });
      expect(await r.json()).toMatchObject({ reversed: 100, shortfall: 0 });
      expect(await balance('c3')).toBe(200);
      await redeem('c3', 150, 'r-3');
      const r2 = await h.request('/v1/loyalty/refunds', {
        perms: ALL_PERMS,
        body: { orderId: 'o-3', idempotencyKey: 'rf-3' },
      });
      expect(await r2.json()).toMatchObject({ reversed: 50, shortfall: 150 });
      expect(await balance('c3')).toBe(0);
      // Retrying the refund changes nothing.
      const r3 = await h.request('/v1/loyalty/refunds', {
        perms: ALL_PERMS,
        body: { orderId: 'o-3', idempotencyKey: 'rf-3' },
      });
      expect(r3.status).toBe(200);
      expect(await balance('c3')).toBe(0);
      expect((await verify()).ok).toBe(true);
    });

    it('points expire after the configured period, oldest first, once', async () => {
      await earn({
        rule: 'purchase',
        userId: 'c4',
        idempotencyKey: 'o-5',
        orderId: 'o-5',
        amountMinor: 10_000,
      });
      h.clock.advance(200 * 86_400_000);
      await earn({
        rule: 'purchase',
        userId: 'c4',
        idempotencyKey: 'o-6',
        orderId: 'o-6',
        amountMinor: 5_000,
      });
      await redeem('c4', 30, 'r-4');
      h.clock.advance(200 * 86_400_000);
      const ex = await h.request('/v1/loyalty/expire', { perms: ALL_PERMS, method: 'POST' });
      // 100 earned first, 30 of them spent: 70 expire; the 50 earned later stay.
      expect(await ex.json()).toEqual({ subjects: 1, points: 70 });
      expect(await balance('c4')).toBe(50);
      const again = await h.request('/v1/loyalty/expire', { perms: ALL_PERMS, method: 'POST' });
      expect(await again.json()).toEqual({ subjects: 0, points: 0 });
      expect(await balance('c4')).toBe(50);
      expect((await verify()).ok).toBe(true);
    });

    it('holds review bursts and self-referrals for review; approval posts them', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await earn({ rule: 'review', userId: 'c5', idempotencyKey: `rv-${i}`, productId: `p${i}` });
        expect(r.status).toBe(200);
      }
      expect(await balance('c5')).toBe(150);
      const self = await earn({
        rule: 'share',
        userId: 'c5',
        idempotencyKey: 'sh-1',
        productId: 'p1',
        referredUserId: 'c5',
      });
      expect(await self.json()).toMatchObject({ status: 'held', reason: 'self-referral' });
      const dup = await earn({ rule: 'review', userId: 'c5', idempotencyKey: 'rv-9', productId: 'p0' });
      expect(dup.status).toBe(409);
      const held = (await (await h.request('/v1/loyalty/held', { perms: ALL_PERMS })).json()) as {
        items: { id: string; reason: string }[];
      };
      expect(held.items).toHaveLength(3);
      expect(held.items.filter((t) => /reviews within/.test(t.reason))).toHaveLength(2);
      const ap = await h.request(`/v1/loyalty/transactions/${held.items[0]!.id}/approve`, {
        perms: ALL_PERMS,
        method: 'POST',
      });
      expect(ap.status).toBe(200);
      expect(await balance('c5')).toBe(200);
      const again = await h.request(`/v1/loyalty/transactions/${held.items[0]!.id}/approve`, {
        perms: ALL_PERMS,
        method: 'POST',
      });
      expect(again.status).toBe(409);
      expect((await verify()).ok).toBe(true);
    });

    it('erasure removes the shopper and keeps the ledger balanced', async () => {
      await earn({
        rule: 'purchase',
        userId: 'c6',
        idempotencyKey: 'o-7',
        orderId: 'o-7',
        amountMinor: 10_000,
      });
      await redeem('c6', 40, 'r-6');
      const subject = h.subjectOfUser('c6');
      const exported = await h.marketing.holder.export({ subjectIds: [subject] });
      expect(exported.tables.loyalty_transactions).toHaveLength(2);
      expect(exported.tables.loyalty_coupons).toHaveLength(1);
      const erased = await h.marketing.holder.erase({ subjectIds: [subject] });
      expect(erased.deleted).toBeGreaterThan(0);
      expect(await balance('c6')).toBe(0);
      const after = await h.marketing.holder.export({ subjectIds: [subject] });
      expect(Object.values(after.tables).every((rows) => rows.length === 0)).toBe(true);
      expect((await verify()).ok).toBe(true);
    });

    it('rejects bad input with a 4xx JSON error', async () => {
      const r = await h.request('/v1/me/loyalty/redeem', {
        shopper: 'c7',
        body: { points: -5, idempotencyKey: 'x' },
      });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
      const r2 = await earn({ rule: 'purchase', userId: 'c7', idempotencyKey: 'k' });
      expect(r2.status).toBe(400);
      const r3 = await h.request('/v1/loyalty/earn', {
        body: { rule: 'review', userId: 'x', idempotencyKey: 'y', productId: 'z' },
      });
      expect(r3.status).toBe(401);
    });
  });
}
