/**
 * issue 6: demographics come only from traits a shopper declared and still consents to share. Runs a real
 * installation (SQLite + DuckDB in a temp dir), so the server's wiring of the profiles module and the consent
 * ledger into analytics is what is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { AnalyticsModule } from '../../src/modules/analytics/index.ts';
import { openShop, type Shop } from '../privacy/helpers.ts';

let shop: Shop;
const tag = Date.now().toString(36);
const customers = [`c1-${tag}`, `c2-${tag}`, `c3-${tag}`];

const consent = (userId: string, personalization: boolean) =>
  shop.call('POST', '/v1/consent', {
    body: {
      writeKey: shop.writeKey,
      userId,
      purposes: { analytics: true, personalization },
      noticeVersion: '1',
    },
  });

const demographics = async () => {
  const analytics = shop.candor.modules.find((m) => m.name === 'analytics') as AnalyticsModule;
  const now = Date.now();
  return analytics.service.demographics(
    { range: { from: now - 86_400_000, to: now + 86_400_000 } },
    { privileged: true, actor: 'staff:test' },
  );
};

beforeAll(async () => {
  shop = await openShop();
  const pseudonym = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!);
  for (const userId of customers) {
    expect((await consent(userId, true)).status).toBe(201);
    await shop.track({ type: 'track', event: 'Product Viewed', userId, properties: { product_id: 'p1' } });
  }
  await shop.waitForEvents(customers.length);
  // c1 and c2 declare traits; c3 declares nothing.
  for (const [userId, traits] of [
    [customers[0]!, { age_band: '25_34', gender: 'female', region: 'ID-JK' }],
    [customers[1]!, { age_band: '35_44', region: 'ID-JB' }],
  ] as const) {
    const subject = await shop.profiles.resolveSubject(pseudonym('user', userId), true);
    await shop.profiles.profiles.declareTraits(subject, traits);
  }
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

describe('issue 6: demographics only from consented, declared traits', () => {
  it('counts the declared traits of active shoppers; a shopper who declared nothing is in no group', async () => {
    const d = await demographics();
    expect(d.shoppers).toBe(3);
    expect(d.declared).toBe(2);
    expect(d.ageBand.map((g) => [g.value, g.shoppers])).toEqual([
      ['25_34', 1],
      ['35_44', 1],
    ]);
    expect(d.gender.map((g) => [g.value, g.shoppers])).toEqual([['female', 1]]);
    expect(d.region.map((g) => g.value).sort()).toEqual(['ID-JB', 'ID-JK']);
  });

  it('a shopper who withdraws consent drops out of the next answer', async () => {
    expect((await consent(customers[0]!, false)).status).toBe(201);
    const d = await demographics();
    expect(d.declared).toBe(1);
    expect(d.gender).toEqual([]);
    expect(d.ageBand.map((g) => g.value)).toEqual(['35_44']);
  });
});
