import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENTS_REFRESH_JOB } from '../../src/modules/marketing/marketing.module.ts';
import { DAY, NOW, event, openCampaignHarness, type CampaignHarness } from './campaigns.kit.ts';

let h: CampaignHarness;

beforeAll(async () => {
  h = await openCampaignHarness({ kAnonymity: 3 });
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

describe('segment rules', () => {
  it('counts behaviour in a window ("order_completed ≥ 2 times in 90 days")', async () => {
    expect(await members({ event: 'order_completed', min: 2, withinDays: 90 })).toEqual(['u1']);
    expect(await members({ event: 'order_completed', min: 3, withinDays: 365 })).toEqual(['u3']);
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

  it('keeps materialised membership live as events arrive (job) and on demand', async () => {
    const res = await h.request('/v1/segments', {
      body: { key: 'loyal', name: 'Loyal', rule: { event: 'order_completed', min: 2, withinDays: 90 } },
      perms: 'marketing:write',
    });
    expect(res.status).toBe(201);
    expect(await h.segments.members('loyal')).toEqual(['u1']);
    await h.stores.events.append([event('u2', 'order_completed', NOW - DAY)]);
    await h.marketing.jobs![SEGMENTS_REFRESH_JOB]!(undefined, { jobId: 'j', attempt: 1 });
    expect(await h.segments.members('loyal')).toEqual(['u1', 'u2']);
    await h.stores.events.deleteSubjects(['u1']);
    const r = await h.request('/v1/segments/loyal/refresh', { method: 'POST', perms: 'marketing:write' });
    expect(r.status).toBe(200);
    expect(await h.segments.members('loyal')).toEqual(['u2']);
  });
});
