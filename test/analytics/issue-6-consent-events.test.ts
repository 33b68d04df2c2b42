/**
 * issue 6: behaviour aggregates hold only shoppers who consented to analytics. Events of shoppers who never
 * consented (or refused) are not stored, so no report can count them; a shopper who withdraws is absent from
 * every aggregate over the time after the withdrawal. A real installation (SQLite + DuckDB in a temp dir).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsModule } from '../../src/modules/analytics/index.ts';
import { openShop, type Shop } from '../privacy/helpers.ts';

let shop: Shop;
const tag = Date.now().toString(36);
const [consenting, refusing, silent] = ['a', 'b', 'c'].map((s) => `dev-${s}-${tag}`) as [
  string,
  string,
  string,
];
const HOUR = 3_600_000;
const owner = { privileged: true, actor: 'staff:test' };

const consent = async (anonymousId: string, analytics: boolean) => {
  const res = await shop.call('POST', '/v1/consent', {
    body: { writeKey: shop.writeKey, anonymousId, purposes: { analytics }, noticeVersion: '1' },
  });
  expect(res.status).toBe(201);
};

const views = async (anonymousId: string, n: number) => {
  for (let i = 0; i < n; i++) {
    await shop.track({ type: 'page', anonymousId, name: 'Home', properties: { path: `/p/${i}` } });
  }
};

const analytics = () => shop.candor.modules.find((m) => m.name === 'analytics') as AnalyticsModule;

beforeAll(async () => {
  shop = await openShop();
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

describe('issue 6: analytics count only shoppers with analytics consent', () => {
  it('never stores the events of a shopper who refused or never answered, so no aggregate counts them', async () => {
    await consent(consenting, true);
    await consent(refusing, false);
    await views(consenting, 2);
    await views(refusing, 3);
    await views(silent, 4);
    expect(await shop.candor.stores.events.count()).toBe(2);
    const now = Date.now();
    const o = await analytics().service.overview({ range: { from: now - HOUR, to: now + HOUR } }, owner);
    expect(o.current.totals.shoppers).toBe(1);
  });

  it('leaves a shopper who withdraws out of every aggregate of the time after the withdrawal', async () => {
    await new Promise((r) => setTimeout(r, 5));
    const withdrawnAt = Date.now();
    await consent(consenting, false);
    await views(consenting, 3);
    // Nothing new stored: the withdrawal took effect for the next event.
    expect(await shop.candor.stores.events.count()).toBe(2);
    const after = await analytics().service.overview(
      { range: { from: withdrawnAt, to: Date.now() + HOUR } },
      owner,
    );
    expect(after.current.totals.shoppers).toBe(0);
    expect(after.current.totals.sessions).toBe(0);
  });
});
