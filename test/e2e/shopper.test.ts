/**
 * The shopper-facing web: the consent banner on a shop page (another origin) and the privacy centre, in
 * Debian's Chromium against a real Candor. The banner must block tracking until a purpose is accepted,
 * keep the network silent after "Reject all", and ask again when the notice version changes; the privacy
 * centre must change consent on the ledger and download the shopper's export.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { CandorModule } from '../../src/kernel/module.ts';
import type { CatalogModule } from '../../src/modules/catalog/index.ts';
import type { RecommendModule } from '../../src/modules/recommend/index.ts';
import { eventually, launchChromium } from '../browser/support.ts';
import { screenshot, seriousViolations, startE2eServer, type E2eServer } from './support.ts';

let server: E2eServer;
let browser: { context: BrowserContext; close(): Promise<void> };
const closers: (() => Promise<void>)[] = [];

/** A shop page on its own origin (a fresh port each time, so each test starts with empty storage). */
async function startShop(noticeVersion: string): Promise<string> {
  const html = (version: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="${server.url}/sdk/candor.iife.js" data-write-key="${server.writeKey}" data-host="${server.url}" data-notice-version="${version}"></script>
<script src="${server.url}/banner.js" data-notice-version="${version}" data-locale="en"></script>
</head><body><main><h1>Shop</h1><p>Products</p></main></body></html>`;
  const shop = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html(url.searchParams.get('v') ?? noticeVersion));
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        shop.close(() => resolve());
        shop.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
}

/** Every request the page makes to Candor's API (scripts excluded), in order. */
function apiCalls(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.url().startsWith(server.url) && u.pathname.startsWith('/v1/'))
      calls.push(`${r.method()} ${u.pathname}`);
  });
  return calls;
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2eServer({ demo: false }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  for (const close of closers) await close();
  await server?.close();
});

describe('consent banner', () => {
  it('blocks tracking until accepted, then records the consent and the page view', async () => {
    const shop = await startShop('1');
    const page = await browser.context.newPage();
    const calls = apiCalls(page);
    const before = await server.candor.stores.events.count();
    await page.goto(shop);
    const banner = page.getByRole('dialog', { name: 'Your privacy choices' });
    await banner.waitFor();
    // Equal weight: accept and reject are the same size.
    const accept = banner.getByRole('button', { name: 'Accept all' });
    const reject = banner.getByRole('button', { name: 'Reject all' });
    const [a, r] = [await accept.boundingBox(), await reject.boundingBox()];
    expect(a && r && Math.abs(a.height - r.height) < 1 && Math.abs(a.width - r.width) < 2).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'consent-banner');
    await page.waitForTimeout(800);
    expect(calls).toEqual([]);

    await accept.click();
    await banner.waitFor({ state: 'detached' });
    await eventually(
      'the consent and the page view reach Candor',
      () => calls.includes('POST /v1/consent') || calls.some((c) => c.endsWith('/v1/batch')),
    );
    await eventually(
      'the page view is stored',
      async () => (await server.candor.stores.events.count()) > before,
    );
    // The choice is remembered: the next page does not ask again.
    await page.reload();
    await page.getByRole('heading', { name: 'Shop' }).waitFor();
    await page.waitForTimeout(300);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.close();
  });

  it('rejecting keeps the network quiet, and a new notice version asks again', async () => {
    const shop = await startShop('1');
    const page = await browser.context.newPage();
    const calls = apiCalls(page);
    await page.goto(shop);
    await page
      .getByRole('dialog', { name: 'Your privacy choices' })
      .getByRole('button', { name: 'Reject all' })
      .click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('heading', { name: 'Shop' }).waitFor();
    await page.waitForTimeout(1_000);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(calls).toEqual([]);

    await page.goto(`${shop}/?v=2`);
    await page.getByRole('dialog', { name: 'Your privacy choices' }).waitFor();
    // "Choose" opens the purposes, explained in plain language, none pre-ticked.
    await page.getByRole('button', { name: 'Choose' }).click();
    const stats = page.getByRole('checkbox', { name: /Statistics/ });
    expect(await stats.isChecked()).toBe(false);
    expect(
      await page.getByText('Counts visits and clicks so the shop learns what works. No names.').count(),
    ).toBe(1);
    await page.close();
  });
});

describe('privacy centre', () => {
  it('changes consent on the ledger, switches personalisation off and downloads the export', async () => {
    const customer = 'e2e-shopper-1';
    const token = await server.shopperToken(customer);
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.goto(`${server.url}/privacy#token=${token}`);
    await page.getByRole('heading', { name: 'Your privacy', level: 1 }).waitFor();
    // The token leaves the address bar at once.
    expect(page.url()).toBe(`${server.url}/privacy`);
    const email = page.getByRole('switch', { name: 'Marketing emails' });
    await email.waitFor();
    expect(await email.isChecked()).toBe(false);

    await email.check();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.getByRole('status').getByText('Your choices are saved.').waitFor();
    const ledger = await fetch(`${server.url}/v1/me/consent`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const { current, history } = (await ledger.json()) as {
      current: Record<string, { granted: boolean; method: string | null }>;
      history: { channel: string | null; method: string }[];
    };
    expect(current.marketing_email?.granted).toBe(true);
    expect(current.advertising?.granted).toBe(false);
    // Recorded through the shopper token: the link carries no write key.
    expect(history.at(-1)).toMatchObject({ channel: 'privacy_centre', method: 'api' });

    await page.getByRole('button', { name: 'Turn off' }).click();
    await page.getByText('Personalisation is off').waitFor();
    const profile = await fetch(`${server.url}/v1/me/profile`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(((await profile.json()) as { personalization: boolean }).personalization).toBe(false);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my data' }).click(),
    ]);
    const file = await download.path();
    const exported = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(JSON.stringify(exported)).toContain('marketing_email');
    await page.getByText(/^Your data was downloaded as my-data-/).waitFor();

    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'privacy-centre');

    // Without a token the page says what to do instead of failing.
    const bare = await browser.context.newPage();
    await bare.goto(`${server.url}/privacy`);
    await bare
      .getByRole('alert')
      .getByText(/privacy link has expired or is missing/)
      .waitFor();
    await bare.close();
    await page.close();
  });
});

describe('interest tags', () => {
  it('deleting an interest tag removes it from the next recommendation explanation', async () => {
    const module = <T extends CandorModule>(name: string) =>
      server.candor.modules.find((m) => m.name === name) as T;
    const basic = `Basic ${Buffer.from(`${server.writeKey}:`).toString('base64')}`;
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basic },
        body: JSON.stringify(body),
      });
    // A small shop: garden tools and kettles.
    await module<CatalogModule>('catalog').service.upsertProducts(
      ['garden', 'kitchen'].flatMap((category) =>
        Array.from({ length: 6 }, (_, i) => ({
          id: `${category}-${i}`,
          title: { en: `${category} item ${i}` },
          categoryPath: [category],
          brand: null,
          price: 10_000 + i * 1_000,
          currency: 'IDR',
          stock: 5,
          attributes: {},
          active: true,
        })),
      ),
    );
    // The shopper agrees to statistics and personalisation, then browses the garden shelf.
    const customer = 'e2e-gardener';
    const notice = (await (await fetch(`${server.url}/v1/consent/notices/current`)).json()) as {
      version: string;
    };
    const consent = await post('/v1/consent', {
      userId: customer,
      purposes: { analytics: true, personalization: true },
      noticeVersion: notice.version,
    });
    expect(consent.status).toBe(201);
    const before = await server.candor.stores.events.count();
    for (const i of [0, 1, 2, 3]) {
      const r = await post('/v1/track', {
        userId: customer,
        event: 'Product Viewed',
        properties: { product_id: `garden-${i}`, category: 'garden' },
      });
      expect(r.status).toBeLessThan(300);
    }
    await eventually(
      'the product views are stored',
      async () => (await server.candor.stores.events.count()) >= before + 4,
    );
    // What the hourly jobs do: derive the interest tags, train the recommender.
    const job = { jobId: 'e2e', attempt: 1 };
    await module('profiles').jobs!['profiles.refresh']!(null, job);
    await module<RecommendModule>('recommend').service.train();

    const explanations = async () => {
      const res = await fetch(`${server.url}/v1/recommendations?surface=for-you&userId=${customer}&limit=6`, {
        headers: { Authorization: basic },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { personalised: boolean; items: { reason: { en: string } }[] };
      expect(body.personalised).toBe(true);
      return body.items.map((i) => i.reason.en);
    };
    expect(await explanations()).toContain('Matches your interest “garden”');

    // The shopper deletes the tag in the privacy centre.
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/privacy#token=${await server.shopperToken(customer)}`);
    const tags = page.getByRole('region', { name: 'My interest tags' });
    const remove = tags.getByRole('button', { name: 'Delete “garden”' });
    await remove.click();
    await remove.waitFor({ state: 'detached' });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();

    const after = await explanations();
    expect(after.length).toBeGreaterThan(0);
    expect(after.join(' | ')).not.toContain('garden”');
    expect(after.some((e) => e.startsWith('Matches your interest'))).toBe(false);
  });
});
