/**
 * Segment behaviour every store pair must show (SQLite + DuckDB in `npm test`, PostgreSQL in the server
 * suite): behaviour, trait, interest and consent rules; only personalised shoppers in profile-based
 * segments; k-anonymous size estimates; materialised membership kept live per subject as events, traits and
 * consent change, with the full refresh as a safety net.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENTS_REFRESH_JOB } from '../../src/modules/marketing/marketing.module.ts';
import type { SegmentRule } from '../../src/modules/marketing/segments.service.ts';
import {
  DAY,
  NOW,
  event,
  openCampaignHarness,
  type CampaignHarness,
  type OpenTestStores,
} from './campaigns.kit.ts';
import { createRng } from '../statistics/prng.ts';

export function segmentsContract(name: string, open: OpenTestStores): void {
  describe(`segments (${name})`, () => {
    let h: CampaignHarness;

    beforeAll(async () => {
      h = await openCampaignHarness(open, { kAnonymity: 3 });
      await h.stores.events.append([
        // u1: two orders in the last 90 days; u2: one; u3: three, but long ago.
        event('u1', 'order_completed', NOW - 10 * DAY),
        event('u1', 'order_completed', NOW - 80 * DAY),
        event('u2', 'order_completed', NOW - 5 * DAY),
        event('u3', 'order_completed', NOW - 200 * DAY),
        event('u3', 'order_completed', NOW - 210 * DAY),
        event('u3', 'order_completed', NOW - 220 * DAY),
        // u4 viewed shoes and never bought; u5 viewed a shoe and bought it (the order carries no category).
        event('u4', 'product_view', NOW - 3 * DAY, { category: 'shoes', productId: 's1' }),
        event('u5', 'product_view', NOW - 3 * DAY, { category: 'shoes', productId: 's2' }),
        event('u5', 'order_completed', NOW - 2 * DAY, { productId: 's2' }),
      ]);
      h.shoppers.set('u1', {
        personalised: true,
        consent: { personalization: true, marketing_email: true },
        traits: { lifecycle: 'active', rfm: { f: 2, r: 5 } },
        interests: ['running'],
      });
      // u2 has the same traits but personalisation is off: never in a profile-based segment.
      h.shoppers.set('u2', {
        personalised: false,
        consent: { personalization: false, marketing_email: true },
        traits: { lifecycle: 'active', rfm: { f: 1, r: 5 } },
        interests: ['running'],
      });
    });
    afterAll(async () => h.close());

    const members = async (rule: unknown) => [...(await h.segments.evaluate(rule as never))].sort();
    const live = async (ids: string[]) => {
      h.segments.noteActivity(ids);
      await h.segments.settled();
    };

    describe('segment rules', () => {
      it('counts behaviour in a window ("order_completed ≥ 2 times in 90 days")', async () => {
        expect(await members({ event: 'order_completed', min: 2, withinDays: 90 })).toEqual(['u1']);
        expect(await members({ event: 'order_completed', min: 3, withinDays: 365 })).toEqual(['u3']);
        expect(await members({ event: 'order_completed', max: 0, withinDays: 30 })).toEqual(['u3', 'u4']);
      });

      it('finds shoppers who viewed a category but never bought from it', async () => {
        expect(await members({ viewedNotBought: { category: 'shoes', withinDays: 30 } })).toEqual(['u4']);
      });

      it('admits only personalised shoppers to profile-based segments, even under not', async () => {
        expect(await members({ trait: 'lifecycle', op: 'eq', value: 'active' })).toEqual(['u1']);
        expect(await members({ interest: 'running' })).toEqual(['u1']);
        expect(await members({ not: { trait: 'rfm.f', op: 'gte', value: 5 } })).toEqual(['u1']);
        expect(
          await members({
            all: [
              { trait: 'rfm.r', op: 'gte', value: 4 },
              { event: 'order_completed', min: 1, withinDays: 30 },
            ],
          }),
        ).toEqual(['u1']);
      });

      it('filters on consent state', async () => {
        expect(await members({ consent: 'marketing_email', granted: true })).toEqual(['u1', 'u2']);
        expect(
          await members({
            all: [
              { consent: 'marketing_email', granted: false },
              { event: 'product_view', min: 1, withinDays: 30 },
            ],
          }),
        ).toEqual(['u4', 'u5']);
      });
    });

    describe('segments over HTTP', () => {
      it('rejects an invalid rule with a 400 that says what is wrong', async () => {
        const res = await h.request('/v1/segments', {
          body: { key: 'bad', name: 'Bad', rule: { event: 'order_completed', withinDays: 90 } },
          perms: 'marketing:write',
        });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('invalid_request');
        expect(body.error.message).toMatch(/rule/);
      });

      it('hides sizes under k from non-owners and shows them to the owner', async () => {
        const rule = { event: 'order_completed', min: 1, withinDays: 90 }; // u1, u2, u5 = 3
        const small = { event: 'order_completed', min: 2, withinDays: 90 }; // u1 = 1
        const analyst = async (r: unknown) =>
          (await (
            await h.request('/v1/segments/estimate', {
              body: { rule: r },
              perms: 'marketing:read',
              role: 'analyst',
            })
          ).json()) as { size: number | null; suppressed: boolean };
        expect(await analyst(rule)).toMatchObject({ size: 3, suppressed: false });
        expect(await analyst(small)).toMatchObject({ size: null, suppressed: true });
        const owner = (await (
          await h.request('/v1/segments/estimate', {
            body: { rule: small },
            perms: 'marketing:read',
            role: 'owner',
          })
        ).json()) as { size: number };
        expect(owner.size).toBe(1);
      });

      it('re-evaluates everything on the periodic job and on demand (the safety net)', async () => {
        const res = await h.request('/v1/segments', {
          body: {
            key: 'loyal',
            name: 'Loyal',
            rule: { event: 'order_completed', min: 2, withinDays: 90 },
          },
          perms: 'marketing:write',
        });
        expect(res.status).toBe(201);
        expect(await h.segments.members('loyal')).toEqual(['u1']);
        // Nobody told the module about this event: only the full refresh can see it.
        await h.stores.events.append([event('u2', 'order_completed', NOW - DAY)]);
        await h.marketing.jobs![SEGMENTS_REFRESH_JOB]!(undefined, { jobId: 'j', attempt: 1 });
        expect(await h.segments.members('loyal')).toEqual(['u1', 'u2']);
        await h.stores.events.deleteSubjects(['u1']);
        const r = await h.request('/v1/segments/loyal/refresh', {
          method: 'POST',
          perms: 'marketing:write',
        });
        expect(r.status).toBe(200);
        expect(await h.segments.members('loyal')).toEqual(['u2']);
      });
    });

    describe('live membership', () => {
      it('puts a shopper in a segment as their event arrives, without a refresh', async () => {
        await h.segments.create({
          key: 'bag-viewers',
          name: 'Bag viewers',
          rule: { event: 'product_view', min: 1, withinDays: 30, category: 'bags' },
        });
        expect(await h.segments.members('bag-viewers')).toEqual([]);
        await h.stores.events.append([event('u6', 'product_view', NOW - 60_000, { category: 'bags' })]);
        await live(['u6']);
        expect(await h.segments.members('bag-viewers')).toEqual(['u6']);
        expect((await h.segments.get('bag-viewers')).size).toBe(1);
        // Noting a subject with nothing new changes nothing (and a stranger with no events is never added).
        await live(['u6', 'nobody']);
        expect(await h.segments.members('bag-viewers')).toEqual(['u6']);
      });

      it('moves a shopper out when their consent or personalisation changes', async () => {
        await h.segments.create({
          key: 'mailable-buyers',
          name: 'Mailable buyers',
          rule: {
            all: [
              { consent: 'marketing_email', granted: true },
              { event: 'order_completed', min: 1, withinDays: 90 },
            ],
          },
        });
        await h.segments.create({
          key: 'runners',
          name: 'Runners',
          rule: { interest: 'running' },
        });
        // u1's events were erased above; give u1 a fresh order so it is in the universe again.
        await h.stores.events.append([event('u1', 'order_completed', NOW - 2 * DAY)]);
        await live(['u1']);
        expect(await h.segments.members('mailable-buyers')).toEqual(['u1', 'u2']);
        expect(await h.segments.members('runners')).toEqual(['u1']);

        h.shoppers.set('u2', { ...h.shoppers.get('u2'), consent: { marketing_email: false } });
        await live(['u2']);
        expect(await h.segments.members('mailable-buyers')).toEqual(['u1']);

        const u1 = h.shoppers.get('u1')!;
        h.shoppers.set('u1', { ...u1, personalised: false });
        await live(['u1']);
        expect(await h.segments.members('runners')).toEqual([]);
        expect((await h.segments.get('runners')).size).toBe(0);
        h.shoppers.set('u1', u1);
        await live(['u1']);
        expect(await h.segments.members('runners')).toEqual(['u1']);
      });

      it('erasure takes the subject out of every segment and out of the stored sizes', async () => {
        await h.segments.create({
          key: 'hat-viewers',
          name: 'Hat viewers',
          rule: { event: 'product_view', min: 1, withinDays: 30, category: 'hats' },
        });
        await h.stores.events.append([
          event('h1', 'product_view', NOW - 60_000, { category: 'hats' }),
          event('h2', 'product_view', NOW - 60_000, { category: 'hats' }),
        ]);
        await live(['h1', 'h2']);
        expect((await h.segments.get('hat-viewers')).size).toBe(2);
        expect(await h.segments.eraseSubjects(['h1'])).toBe(1);
        expect(await h.segments.members('hat-viewers')).toEqual(['h2']);
        expect((await h.segments.get('hat-viewers')).size).toBe(1);
        // Erasing someone in no segment changes no size.
        expect(await h.segments.eraseSubjects(['nobody'])).toBe(0);
        expect((await h.segments.get('hat-viewers')).size).toBe(1);
      });

      it('incremental updates end where a full evaluation does (random histories)', async () => {
        const rng = createRng(8);
        const rand = () => rng.next();
        const rules: Record<string, SegmentRule> = {
          'r-two-orders': { event: 'order_completed', min: 2, withinDays: 30 },
          'r-viewed-not-bought': { viewedNotBought: { category: 'toys', withinDays: 30 } },
          'r-no-search': {
            all: [
              { event: 'product_view', min: 1, withinDays: 30 },
              { not: { event: 'search', min: 1, withinDays: 7 } },
            ],
          },
        };
        for (const [key, rule] of Object.entries(rules)) await h.segments.create({ key, name: key, rule });
        const ids = Array.from({ length: 40 }, (_, i) => `rnd${i}`);
        const types = ['order_completed', 'product_view', 'search'] as const;
        for (let round = 0; round < 4; round++) {
          const batch = ids
            .filter(() => rand() < 0.4)
            .map((s) => {
              const type = types[Math.floor(rand() * types.length)]!;
              return event(s, type, NOW - Math.floor(rand() * 20) * DAY, {
                category: type === 'search' ? null : 'toys',
                productId: type === 'search' ? null : `t${Math.floor(rand() * 3)}`,
              });
            });
          await h.stores.events.append(batch);
          await live(batch.map((e) => e.subjectId));
          for (const [key, rule] of Object.entries(rules)) {
            const want = [...(await h.segments.evaluate(rule))].sort();
            expect(await h.segments.members(key), `${key} after round ${round}`).toEqual(want);
            expect((await h.segments.get(key)).size).toBe(want.length);
          }
        }
      });
    });
  });
}
