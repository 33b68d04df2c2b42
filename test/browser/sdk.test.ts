import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { buildSdk } from '../../sdk/scripts/build.ts';
import type { Client } from '../../sdk/src/index.ts';
import { eventually, launchChromium, startCollector, startShop, type Collector } from './support.ts';

declare global {
  interface Window {
    candor: Client;
  }
}

let collector: Collector;
let shop: { url: string; close(): Promise<void> };
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
/** Every URL the page asked for, in order. */
let seen: string[];

beforeAll(async () => {
  const { iife } = await buildSdk();
  collector = await startCollector();
  shop = await startShop(iife, collector);
});

afterAll(async () => {
  await shop?.close();
  await collector?.close();
});

beforeEach(async () => {
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  seen = [];
  page.on('request', (r) => seen.push(r.url()));
});

afterEach(async () => {
  await browser?.close();
});

/** What the page keeps on the device: localStorage, sessionStorage, cookies, IndexedDB. */
async function deviceStorage() {
  const inPage = await page.evaluate(async () => ({
    localStorage: Object.keys(localStorage),
    sessionStorage: Object.keys(sessionStorage),
    cookie: document.cookie,
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
  }));
  return { ...inPage, cookies: await browser.context.cookies() };
}

const nothingStored = { localStorage: [], sessionStorage: [], cookie: '', indexedDB: [], cookies: [] };

async function open(query = ''): Promise<void> {
  await page.goto(`${shop.url}/${query}`);
  await page.waitForFunction(() => typeof window.candor?.track === 'function');
}

/** Lets the page's own timers run (flush interval 200 ms) before asserting that something did NOT happen. */
const quietPeriod = (): Promise<void> => page.waitForTimeout(800);

async function grantAnalytics(): Promise<string> {
  const before = collector.consents().length;
  await page.evaluate(() => window.candor.consent.set({ analytics: true }));
  await eventually('the consent decision reaches the server', () => collector.consents().length > before);
  return collector.consents()[before]!.anonymousId;
}

describe('the browser SDK in Chromium', () => {
  it('sends no request and stores nothing before consent', async () => {
    await open();
    await page.mouse.wheel(0, 1500);
    const before = collector.requests.length;
    await page.evaluate(async () => {
      const c = window.candor;
      c.page();
      c.track('before_consent', { note: 'must never leave the browser' });
      c.identify('cust-before', { plan: 'gold' });
      c.productViewed({ product_id: 'p-before' });
      c.searched('boots', 3);
      await c.flush();
    });
    await quietPeriod();
    // Leaving the page (pagehide, beacon) must not send either.
    await open();
    await quietPeriod();

    expect(collector.requests.length).toBe(before);
    expect(seen.filter((u) => u.startsWith(collector.url))).toEqual([]);
    expect(seen.every((u) => u.startsWith(shop.url))).toBe(true);
    expect(await deviceStorage()).toEqual(nothingStored);
    expect(await page.evaluate(() => window.candor.consent.get())).toBeNull();

    // Declining everything keeps it that way.
    await page.evaluate(() => window.candor.consent.set({ analytics: false, personalization: false }));
    await quietPeriod();
    expect(collector.requests.length).toBe(before);
    expect(await deviceStorage()).toEqual(nothingStored);
  });

  it('after consent, records the decision with the GPC signal, then delivers the events', async () => {
    await browser.context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    );
    await open();
    await page.evaluate(() => window.candor.track('before_consent'));
    const first = collector.requests.length;
    const anonymousId = await grantAnalytics();

    const request = collector.requests[first]!;
    expect(request.path).toBe('/v1/consent');
    expect(request.contentType).toMatch(/^text\/plain/);
    const decision = collector.consents().at(-1)!;
    expect(decision).toMatchObject({
      purposes: { analytics: true, personalization: false, advertising: false, sale: false },
      noticeVersion: '1',
      method: 'banner',
      locale: 'en',
      gpc: true,
    });

    const viewed = await page.evaluate(() =>
      window.candor.productViewed({ product_id: 'p-1', price: 125_000 }),
    );
    await eventually('page_view and product_view arrive', async () =>
      (await collector.events()).some((e) => e.messageId === viewed),
    );
    const mine = (await collector.events()).filter((e) => e.anonymousId === anonymousId);
    expect(mine.map((e) => e.event ?? e.type)).toEqual(['page', 'product_view']);
    expect(mine[0]!.context).toMatchObject({ page: { path: '/' }, library: { name: 'candor-sdk' } });
    expect((await collector.events()).some((e) => e.event === 'before_consent')).toBe(false);
    expect((await deviceStorage()).localStorage).toContain('candor.s');
    expect((await deviceStorage()).cookies).toEqual([]);

    // Leaving the page sends page_leave (engaged time, scroll depth); the next page keeps the same id.
    await page.mouse.wheel(0, 2000);
    await eventually('the scroll is seen', () => page.evaluate(() => window.scrollY > 1000));
    await open('product');
    await eventually('page_leave arrives', async () =>
      (await collector.events()).some((e) => e.event === 'page_leave'),
    );
    const leave = (await collector.events()).find((e) => e.event === 'page_leave')!;
    expect(leave.anonymousId).toBe(anonymousId);
    expect(leave.properties!.engaged_ms).toEqual(expect.any(Number));
    expect(leave.properties!.scroll_depth).toBeGreaterThan(25);
    await eventually('the second page_view arrives with the same anonymous id', async () =>
      (await collector.events()).some(
        (e) => e.type === 'page' && e.anonymousId === anonymousId && e.messageId !== mine[0]!.messageId,
      ),
    );
  });

  it('one script tag with data attributes is all a shop needs', async () => {
    await page.goto(`${shop.url}/tag`);
    await page.waitForFunction(() => typeof window.candor?.track === 'function');
    await quietPeriod();
    expect(seen.filter((u) => u.startsWith(collector.url))).toEqual([]);
    const anonymousId = await grantAnalytics();
    await eventually('the page_view arrives', async () =>
      (await collector.events()).some((e) => e.anonymousId === anonymousId && e.type === 'page'),
    );
  });

  it('offline, then back online: every event is delivered exactly once', async () => {
    await open();
    const anonymousId = await grantAnalytics();
    await eventually('the page_view arrives', async () =>
      (await collector.events()).some((e) => e.anonymousId === anonymousId),
    );

    await browser.context.setOffline(true);
    const ids = await page.evaluate(async () => {
      const c = window.candor;
      const out = [
        c.searched('sepatu', 12),
        c.searchClicked('sepatu', 'p-7', 2),
        c.addedToCart({ product_id: 'p-7', price: 300_000, currency: 'IDR' }),
        c.checkoutStarted({ currency: 'IDR' }),
        c.track('product_shared', { product_id: 'p-7' }),
      ];
      await c.flush();
      return out as string[];
    });
    await quietPeriod();
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    for (const id of ids) expect(collector.deliveries(id)).toBe(0);
    const waiting = await page.evaluate(
      () => JSON.parse(localStorage.getItem('candor.q') ?? '[]') as { i: string }[],
    );
    expect(waiting.map((w) => w.i)).toEqual(ids);

    await browser.context.setOffline(false);
    await eventually('the offline events arrive', () => ids.every((id) => collector.deliveries(id) > 0));
    await page.evaluate(() => window.candor.flush());
    await quietPeriod();
    for (const id of ids) expect(collector.deliveries(id)).toBe(1);
    for (const id of ids) expect(await collector.stored(id)).toBe(1);
    expect(await page.evaluate(() => localStorage.getItem('candor.q'))).toBeNull();
  });

  it('a reload while the server is down loses nothing: the queue survives and is sent from the next page', async () => {
    await open();
    const anonymousId = await grantAnalytics();
    await eventually('the page_view arrives', async () =>
      (await collector.events()).some((e) => e.anonymousId === anonymousId),
    );

    collector.setFailing(true);
    const failedBefore = collector.requests.filter((r) => r.status === 503).length;
    const ids = await page.evaluate(async () => {
      const c = window.candor;
      const out = [
        c.track('product_view', { product_id: 'p-1' }),
        c.track('product_view', { product_id: 'p-2' }),
      ];
      await c.flush();
      return out as string[];
    });
    await eventually(
      'the server refused a batch',
      () => collector.requests.filter((r) => r.status === 503).length > failedBefore,
    );
    await open();
    await page.evaluate(() => window.candor.flush());
    const stored = await page.evaluate(
      () => JSON.parse(localStorage.getItem('candor.q') ?? '[]') as { i: string }[],
    );
    expect(stored.map((s) => s.i)).toEqual(expect.arrayContaining(ids));

    collector.setFailing(false);
    await page.evaluate(() => window.candor.flush());
    await eventually('the queued events arrive after the reload', () =>
      ids.every((id) => collector.deliveries(id) > 0),
    );
    const events = (await collector.events()).filter((e) => e.anonymousId === anonymousId);
    expect(events.filter((e) => ids.includes(e.messageId))).toHaveLength(ids.length);
    // However often the beacon and the retries carried an event, the server stored it once.
    for (const id of ids) expect(await collector.stored(id)).toBe(1);
    expect(events.filter((e) => e.event === 'page_leave')).toHaveLength(1);
    expect(await page.evaluate(() => localStorage.getItem('candor.q'))).toBeNull();
  });

  it('withdrawal wipes the queue and all device storage at once, and nothing queued is sent', async () => {
    // Events wait in the queue: sent only at 100 or after a minute.
    await open('?flushAt=100&interval=60000');
    const anonymousId = await grantAnalytics();
    // Wait until the consent and page_view requests are done, so what follows stays queued.
    await page.evaluate(() => window.candor.flush());
    const ids = await page.evaluate(() => [
      window.candor.addedToCart({ product_id: 'p-3' }),
      window.candor.track('product_view', { product_id: 'p-4' }),
    ]);
    const queued = await page.evaluate(
      () => JSON.parse(localStorage.getItem('candor.q') ?? '[]') as { i: string }[],
    );
    expect(queued.map((q) => q.i)).toEqual(expect.arrayContaining(ids as string[]));

    const afterWithdraw = await page.evaluate(() => {
      window.candor.consent.withdraw();
      return {
        keys: Object.keys(localStorage),
        cookie: document.cookie,
        consent: window.candor.consent.get(),
      };
    });
    expect(afterWithdraw.keys).toEqual([]);
    expect(afterWithdraw.cookie).toBe('');
    expect(afterWithdraw.consent).toMatchObject({ analytics: false });

    await eventually('the withdrawal reaches the server', () =>
      collector.consents().some((c) => c.anonymousId === anonymousId && c.purposes.analytics === false),
    );
    const requestsAfter = collector.requests.length;
    await page.evaluate(async () => {
      window.candor.track('after_withdrawal');
      await window.candor.flush();
    });
    await open();
    await quietPeriod();
    expect(collector.requests.length).toBe(requestsAfter);
    // Only the page_view sent while consent held ever arrived; the queued events and later calls never did.
    const events = (await collector.events()).filter((e) => e.anonymousId === anonymousId);
    expect(events.map((e) => e.type)).toEqual(['page']);
    for (const id of ids) expect(collector.deliveries(id!)).toBe(0);
    expect((await collector.events()).some((e) => e.event === 'after_withdrawal')).toBe(false);
    expect(await deviceStorage()).toEqual(nothingStored);
  });
});
