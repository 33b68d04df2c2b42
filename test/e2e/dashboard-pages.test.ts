/**
 * The analytics, marketing, recommendation, fraud-rule, chat-analytics and consent-statistics pages in
 * Debian's Chromium against a real Candor with a generated demo shop: each page loads for a role that may
 * see it and shows the numbers the API gives that role; each is neither linked nor rendered for a role
 * that may not; no serious axe-core violation; screenshots of the main ones for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../browser/support.ts';
import { screenshot, seriousViolations, signIn, startE2eServer, type E2eServer } from './support.ts';

let server: E2eServer;
let browser: { context: BrowserContext; close(): Promise<void> };
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
  return page;
}

/** The API as the signed-in browser session sees it (cookie + CSRF header), so roles apply. */
async function api<T>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  const r = await page.evaluate(
    async ([m, p, b]) => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string };
      const res = await fetch(p, {
        method: m,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    },
    [method, path, body] as const,
  );
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main navigation' });

/** Opens a page from the navigation and waits until every loading line is gone and no error shows. */
async function open(page: Page, link: string, heading: string): Promise<void> {
  await nav(page).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, exact: true, level: 1 }).waitFor();
  await settle(page, link);
}

async function settle(page: Page, what: string): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('main [role="status"].muted').length === 0);
  expect(await page.locator('main [role="alert"]').count(), `${what} shows an error`).toBe(0);
}

const num = (s: string) => Number(s.replace(/[^\d.-]/g, ''));
const kpi = async (page: Page, label: string) =>
  (await page.locator('.kpi', { hasText: label }).first().locator('.kpi-value').innerText()).trim();
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2eServer(), launchChromium()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('dashboard pages for analytics, marketing, recommendations, fraud rules, chat and consent', () => {
  it('an owner sees each page with the numbers the API gives', async () => {
    const owner = await server.createStaff('owner', 'owner-pages@shop.test');
    const page = await newPage();
    await signIn(page, server.url, owner);
    const writeKey = `Basic ${Buffer.from(`${server.writeKey}:`).toString('base64')}`;
    const asShop = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: writeKey },
        body: JSON.stringify(body),
      });

    // ---- Analytics: paths, dwell, demographics, forecasts (the period picker's last 30 days).
    const period = { from: day(-29), to: day(0) };
    await open(page, 'Paths', 'Paths');
    const paths = await api<{ anchors: number; steps: { step: string; count: number }[] }>(
      page,
      'GET',
      `/v1/analytics/paths?from=${period.from}&to=${period.to}&type=product_view&direction=next&depth=3&limit=20`,
    );
    expect(paths.anchors).toBeGreaterThan(0);
    await page.getByText(`${paths.anchors.toLocaleString('en')} times the starting point`).waitFor();
    // The chart's numbers are behind its "Show as table" disclosure.
    await page.getByRole('figure', { name: 'What shoppers did next' }).getByText('Show as table').click();
    const firstStep = page.getByRole('table', { name: 'What shoppers did next' }).locator('tbody tr').first();
    expect(await firstStep.locator('th').innerText()).toBe(paths.steps[0]!.step);
    expect(num(await firstStep.locator('td').first().innerText())).toBe(paths.steps[0]!.count);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-paths');

    await open(page, 'Dwell time', 'Dwell time and scroll depth');
    const dwell = await api<{ rows: { key: string; leaves: number }[] }>(
      page,
      'GET',
      `/v1/analytics/dwell?from=${period.from}&to=${period.to}&by=path&limit=50`,
    );
    expect(dwell.rows.length).toBeGreaterThan(0);
    const dwellRow = page.getByRole('table', { name: 'Dwell time and scroll depth' }).locator('tbody tr');
    expect(await dwellRow.count()).toBe(dwell.rows.length);
    expect(num(await dwellRow.first().locator('td').first().innerText())).toBe(dwell.rows[0]!.leaves);
    expect(await seriousViolations(page)).toEqual([]);

    await open(page, 'Demographics', 'Demographics');
    const demo = await api<{ shoppers: number; declared: number }>(
      page,
      'GET',
      `/v1/analytics/demographics?from=${period.from}&to=${period.to}`,
    );
    expect(demo.shoppers).toBeGreaterThan(0);
    expect(num(await kpi(page, 'Active shoppers'))).toBe(demo.shoppers);
    expect(num(await kpi(page, 'With declared traits'))).toBe(demo.declared);
    expect(await seriousViolations(page)).toEqual([]);

    await open(page, 'Forecasts', 'Demand forecasts');
    const forecast = await api<{ series: { key: string; model: string }[] }>(
      page,
      'GET',
      '/v1/analytics/forecasts?level=category&horizon=14&limit=20',
    );
    expect(forecast.series.length).toBeGreaterThan(0);
    const models = page.getByRole('table', { name: 'Models and backtest errors' }).locator('tbody tr');
    expect(await models.count()).toBe(forecast.series.length);
    expect(await models.first().locator('td').first().innerText()).toBe(forecast.series[0]!.model);
    await page.getByRole('figure', { name: `Forecast for ${forecast.series[0]!.key}` }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-forecasts');

    // ---- Marketing: the segment builder's live estimate is the API's estimate of the same rule.
    await open(page, 'Segments', 'Segments');
    await page.getByLabel('At least (times) (condition 1)').fill('1');
    await page.getByLabel('Within days (condition 1)').fill('60');
    const estimate = await api<{ size: number | null }>(page, 'POST', '/v1/segments/estimate', {
      rule: { all: [{ event: 'order_completed', min: 1, withinDays: 60 }] },
    });
    expect(estimate.size).toBeGreaterThan(0);
    await page
      .locator('.estimate strong')
      .getByText(estimate.size!.toLocaleString('en'), { exact: true })
      .waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Recent buyers');
    await page.getByLabel('Key', { exact: true }).fill('recent-buyers');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('status').getByText('Segment “Recent buyers” saved.').waitFor();
    await page.getByRole('table', { name: 'Saved segments' }).getByText('recent-buyers').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-segments');

    // A campaign for the segment: its dry run shows the exclusion counts by reason.
    const campaign = await api<{ id: string }>(page, 'POST', '/v1/campaigns', {
      key: 'win-back',
      name: 'Win back',
      segment: 'recent-buyers',
      channel: 'email',
      template: { subject: { en: 'We miss you' }, text: { en: 'Hello {{name}} {{unsubscribe_url}}' } },
      holdout: 0.1,
    });
    await open(page, 'Campaigns', 'Campaigns');
    await page.getByRole('button', { name: 'Open Win back' }).click();
    await page.getByRole('button', { name: 'Dry run: who would receive it' }).click();
    await page.getByRole('table', { name: 'Excluded, by reason' }).waitFor();
    const dry = await api<{ audience: number; excluded: Record<string, number> }>(
      page,
      'POST',
      `/v1/campaigns/${campaign.id}/send`,
      { dryRun: true },
    );
    expect(num(await kpi(page, 'Segment members'))).toBe(dry.audience);
    const noConsent = page.getByRole('row', { name: /No consent for this purpose/ }).locator('td');
    expect(num(await noConsent.innerText())).toBe(dry.excluded.no_consent ?? 0);
    await settle(page, 'Campaigns');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-campaigns');

    // An experiment with exposures and outcomes: sequential results with intervals and the SRM check.
    const exp = await api<{ id: string }>(page, 'POST', '/v1/experiments', {
      key: 'checkout-button',
      name: 'Checkout button',
      variants: [
        { key: 'control', weight: 1 },
        { key: 'green', weight: 1 },
      ],
      metrics: [{ key: 'orders', kind: 'conversion', mde: 0.05 }],
    });
    await api(page, 'POST', `/v1/experiments/${exp.id}/start`);
    for (let i = 0; i < 60; i++) {
      const res = await asShop(`/v1/experiments/${exp.id}/assign`, { userId: `exp-${i}` });
      expect(res.status).toBe(200);
      if (i % 3 === 0)
        await api(page, 'POST', `/v1/experiments/${exp.id}/outcomes`, {
          userId: `exp-${i}`,
          metric: 'orders',
          value: 1,
        });
    }
    await open(page, 'Experiments', 'Experiments');
    await page.getByRole('button', { name: 'Results Checkout button' }).click();
    await page.getByRole('heading', { name: 'Results of checkout-button' }).waitFor();
    const results = await api<{ exposures: Record<string, number>; srm: { mismatch: boolean } }>(
      page,
      'GET',
      `/v1/experiments/${exp.id}/results`,
    );
    const exposures = page.getByRole('table', { name: 'Exposed subjects per variant' });
    for (const [variant, n] of Object.entries(results.exposures))
      expect(num(await exposures.getByRole('row', { name: variant }).locator('td').innerText())).toBe(n);
    await page.getByRole('figure', { name: 'Metric orders (primary)' }).waitFor();
    if (!results.srm.mismatch) await page.getByText(/Arms match the designed split/).waitFor();
    else await page.getByText('Sample ratio mismatch.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-experiments');

    // Loyalty: one shopper's ledger, with the balance the API holds.
    await api(page, 'POST', '/v1/loyalty/earn', {
      rule: 'purchase',
      userId: 'loyal-1',
      idempotencyKey: 'order-loyal-1',
      orderId: 'order-loyal-1',
      amountMinor: 125_000,
    });
    await open(page, 'Loyalty ledger', 'Loyalty ledger');
    await page.getByLabel('Customer id').fill('loyal-1');
    await page.getByRole('button', { name: 'Show points' }).click();
    await page.getByRole('heading', { name: 'Points of loyal-1' }).waitFor();
    const account = await api<{ balance: number }>(page, 'GET', '/v1/loyalty/accounts/loyal-1');
    expect(account.balance).toBeGreaterThan(0);
    expect(num(await kpi(page, 'Balance'))).toBe(account.balance);
    expect(await seriousViolations(page)).toEqual([]);

    // ---- Recommendations preview: a test shopper, the diversity slider, the non-personalised list.
    await open(page, 'Recommendation preview', 'Recommendation preview');
    await page.getByLabel('Id', { exact: true }).fill('cust-0001');
    await page.getByRole('button', { name: 'Show recommendations' }).click();
    const items = page.getByRole('table', { name: 'Recommended items' }).locator('tbody tr th');
    // The first request trains the shop's first model version, which takes a while on a busy machine.
    await items.first().waitFor({ timeout: 120_000 });
    const preview = await api<{ items: { itemId: string }[] }>(
      page,
      'GET',
      '/v1/recommendations/preview?surface=for-you&userId=cust-0001&lambda=0.8&personalised=true&limit=10',
    );
    expect(await items.allInnerTexts()).toEqual(preview.items.map((i) => i.itemId));
    await page.getByLabel('Show the non-personalised list').check();
    await page.getByText('Not personalised (no profile data used)').waitFor();
    const generic = await api<{ items: { itemId: string }[] }>(
      page,
      'GET',
      '/v1/recommendations/preview?surface=for-you&userId=cust-0001&lambda=0.8&personalised=false&limit=10',
    );
    await expect.poll(() => items.allInnerTexts()).toEqual(generic.items.map((i) => i.itemId));
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-recommendations');
    // A preview is not an impression: the fairness report still counts none.
    const fairness = await api<{ impressions: number }>(page, 'GET', '/v1/recommendations/fairness');
    expect(fairness.impressions).toBe(0);

    // ---- Fraud rules: a dry run over recent scored orders, as the API computes it.
    for (let i = 0; i < 5; i++)
      await api(page, 'POST', '/v1/fraud/score', {
        orderId: `fraud-e2e-${i}`,
        amount: 100 + i * 400,
        currency: 'IDR',
        items: [{ productId: 'p000001', quantity: 1, unitPrice: 100 + i * 400 }],
      }).catch(() => undefined);
    await open(page, 'Fraud rules', 'Fraud rules');
    await page.getByRole('button', { name: 'Dry run' }).click();
    const dryHeading = page.getByRole('heading', { name: /^Dry run over \d+ recent scored orders$/ });
    await dryHeading.waitFor();
    const rules = await api<{ rules: unknown[] }>(page, 'GET', '/v1/fraud/rules');
    const fraudDry = await api<{ evaluated: number }>(page, 'POST', '/v1/fraud/rules/dry-run', {
      rules: rules.rules,
    });
    expect(num(await dryHeading.innerText())).toBe(fraudDry.evaluated);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-fraud-rules');

    // ---- Chat analytics: conversations with a thumbs-up, as the API counts them.
    for (let i = 0; i < 3; i++) {
      const res = await asShop('/v1/chat/messages', { text: 'where is my order?' });
      const { conversationId } = (await res.json()) as { conversationId: string };
      await asShop(`/v1/chat/conversations/${conversationId}/csat`, { rating: 'up' });
    }
    await open(page, 'Chat analytics', 'Chat analytics');
    const chat = await api<{ conversations: number }>(page, 'GET', '/v1/chat/analytics?days=30');
    expect(chat.conversations).toBeGreaterThanOrEqual(3);
    expect(num(await kpi(page, 'Conversations'))).toBe(chat.conversations);
    await page.getByRole('table', { name: 'FAQ gaps: questions the bot could not answer' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-chat-analytics');

    // ---- Consent statistics over the demo shop's ledger.
    await open(page, 'Consent statistics', 'Consent statistics');
    await page.getByRole('button', { name: 'Last 90 days' }).click();
    await settle(page, 'Consent statistics');
    const stats = await api<{ totals: { subjects: number | null; suppressed: boolean } }>(
      page,
      'GET',
      `/v1/consent/stats?from=${day(-89)}&to=${day(0)}&period=day`,
    );
    expect(stats.totals.suppressed).toBe(false);
    expect(stats.totals.subjects).toBeGreaterThan(0);
    expect(num(await kpi(page, 'Shoppers who decided'))).toBe(stats.totals.subjects);
    await page.getByRole('table', { name: 'Decisions per purpose in the period' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-consent-stats');
    await page.close();
  }, 240_000);

  it('each page is absent from the navigation and refused for a role that may not use it', async () => {
    const cases: { role: Parameters<E2eServer['createStaff']>[0]; sees: string[]; not: string[] }[] = [
      {
        role: 'analyst',
        sees: ['Paths', 'Dwell time', 'Demographics', 'Forecasts', 'Segments', 'Campaigns', 'Experiments'],
        not: [
          'Loyalty ledger',
          'Recommendation preview',
          'Fraud rules',
          'Chat analytics',
          'Consent statistics',
        ],
      },
      {
        role: 'marketer',
        sees: ['Segments', 'Loyalty ledger', 'Recommendation preview'],
        not: ['Fraud rules', 'Chat analytics', 'Consent statistics'],
      },
      {
        role: 'support',
        sees: ['Consent statistics'],
        not: ['Paths', 'Forecasts', 'Segments', 'Loyalty ledger', 'Recommendation preview', 'Fraud rules'],
      },
      {
        role: 'security_officer',
        sees: ['Fraud rules'],
        not: ['Paths', 'Segments', 'Campaigns', 'Loyalty ledger', 'Consent statistics', 'Chat analytics'],
      },
    ];
    const paths: Record<string, string> = {
      Paths: '/paths',
      Forecasts: '/forecasts',
      Segments: '/segments',
      Campaigns: '/campaigns',
      'Loyalty ledger': '/loyalty',
      'Recommendation preview': '/recommendations',
      'Fraud rules': '/fraud-rules',
      'Chat analytics': '/chat-analytics',
      'Consent statistics': '/consent-stats',
    };
    for (const c of cases) {
      const staff = await server.createStaff(c.role);
      const page = await newPage();
      await signIn(page, server.url, staff);
      for (const link of c.sees)
        expect(
          await nav(page).getByRole('link', { name: link, exact: true }).count(),
          `${c.role} ${link}`,
        ).toBe(1);
      for (const link of c.not)
        expect(
          await nav(page).getByRole('link', { name: link, exact: true }).count(),
          `${c.role} ${link}`,
        ).toBe(0);
      // Typing the address does not help: the page refuses.
      const refused = c.not.find((l) => paths[l] !== undefined)!;
      await page.goto(`${server.url}${paths[refused]}`);
      await page.getByRole('alert').getByText('Your role does not give access to this page.').waitFor();
      // A page the role may use loads with its data.
      const allowed = c.sees.find((l) => paths[l] !== undefined);
      if (allowed) {
        await page.goto(`${server.url}${paths[allowed]}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await settle(page, `${c.role} ${allowed}`);
        expect(await seriousViolations(page), `${c.role} ${allowed}`).toEqual([]);
      }
      await page.close();
    }
    // And the APIs behind them refuse too.
    const analyst = await server.createStaff('analyst');
    const page = await newPage();
    await signIn(page, server.url, analyst);
    const statuses = await page.evaluate(async () =>
      Promise.all(
        [
          '/v1/consent/stats',
          '/v1/loyalty/accounts/loyal-1',
          '/v1/recommendations/preview',
          '/v1/fraud/rules',
        ].map(async (p) => (await fetch(p)).status),
      ),
    );
    expect(statuses).toEqual([403, 403, 403, 403]);
    await page.close();
  }, 240_000);

  it('loaded every page without a script error or a CSP violation', () => {
    expect(pageErrors).toEqual([]);
  });
});
