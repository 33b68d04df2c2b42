/**
 * The staff dashboard in Debian's Chromium against a real Candor: TOTP sign-in with enrolment, the funnel
 * builder agreeing with the API, role-aware access (a marketer never reaches a customer's PII), the UI
 * languages, no CSP violations, no serious axe-core violations, and screenshots of the main pages.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../browser/support.ts';
import {
  screenshot,
  seriousViolations,
  signIn,
  startE2eServer,
  totpCode,
  type E2eServer,
} from './support.ts';

let server: E2eServer;
let browser: { context: BrowserContext; close(): Promise<void> };
const cspErrors: string[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

/** Reads the shoppers column of the funnel table (what a user sees), as numbers. */
async function funnelShoppers(page: Page): Promise<number[]> {
  const table = page.getByRole('table', { name: 'Funnel', exact: true });
  const cells = await table.locator('tbody tr td:nth-of-type(1)').allInnerTexts();
  return cells.map((c) => Number(c.replaceAll(',', '')));
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2eServer(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('staff dashboard', () => {
  it('an owner enrols an authenticator, signs in with TOTP, builds a 3-step funnel matching the API', async () => {
    const owner = await server.createStaff('owner', 'owner@shop.test');
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Candor' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    // First sign-in: the enrolment shows the authenticator's otpauth URI as a QR code and as text.
    await page.getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
    expect(await page.getByLabel('Setup key (otpauth URI)').first().inputValue()).toBe(owner.totpUri);
    await page.getByRole('img', { name: 'Setup key (otpauth URI)' }).waitFor();
    await screenshot(page, 'dashboard-enrol');

    // A wrong code is refused with a message, and the form stays.
    await page.getByLabel('Authenticator code').fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();

    await page.getByLabel('Authenticator code').fill(await totpCode(owner.secret));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    expect(await page.locator('.codes li').count()).toBe(10);
    await page.getByRole('button', { name: 'I have stored them — continue' }).click();

    // Overview with period comparison.
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('vs previous period').first().waitFor();
    expect(page.url()).toBe(`${server.url}/overview`);
    const sessions = await page.locator('.kpi', { hasText: 'Sessions' }).locator('.kpi-value').innerText();
    expect(Number(sessions.replaceAll(',', ''))).toBeGreaterThan(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-overview');

    // The funnel builder: three steps chosen from the event vocabulary, broken down by device class.
    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Funnels' })
      .click();
    await page.getByRole('heading', { name: 'Funnel', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Last 90 days' }).click();
    await page.getByLabel('Event of step 1').selectOption('product_view');
    await page.getByLabel('Event of step 2').selectOption('add_to_cart');
    await page.getByLabel('Event of step 3').selectOption('order_completed');
    await page.getByLabel('Break down by').selectOption('device_class');
    await page.getByRole('button', { name: 'Show funnel' }).click();
    await page.getByRole('table', { name: 'Funnel', exact: true }).waitFor();
    const shown = await funnelShoppers(page);

    // The same question asked of the API directly, with the signed-in session.
    const api = await page.evaluate(async () => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string };
      const to = new Date().toISOString().slice(0, 10);
      const from = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
      const res = await fetch('/v1/analytics/funnels', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
        body: JSON.stringify({
          from,
          to,
          steps: [{ type: 'product_view' }, { type: 'add_to_cart' }, { type: 'order_completed' }],
          windowSeconds: 7 * 86_400,
          breakdown: 'device_class',
        }),
      });
      return (await res.json()) as { steps: { shoppers: number }[]; breakdown: { groups: unknown[] } };
    });
    expect(shown).toHaveLength(3);
    expect(shown).toEqual(api.steps.map((s) => s.shoppers));
    expect(shown[0]).toBeGreaterThan(0);
    expect(shown[0]!).toBeGreaterThanOrEqual(shown[2]!);
    const breakdownRows = page
      .getByRole('table', { name: 'Break down by: device_class' })
      .locator('tbody tr');
    expect(await breakdownRows.count()).toBe(Math.max(1, api.breakdown.groups.length));
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-funnel');

    // A shopper erases their account, so the privacy queue has a completed request with its deadline.
    const erased = await fetch(`${server.url}/v1/me/erase`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${await server.shopperToken('e2e-erased-shopper')}`,
      },
      body: JSON.stringify({ jurisdiction: 'uu_pdp' }),
    });
    expect(erased.status).toBe(200);
    const erasure = (await erased.json()) as { requestId: string };

    // The other main pages render, pass axe, and are captured for the README.
    for (const [link, heading, shot] of [
      ['Search', 'Site search', 'dashboard-search'],
      ['Cart', 'Cart and abandonment', 'dashboard-cart'],
      ['Retention', 'Retention cohorts', 'dashboard-retention'],
      ['Data requests', 'Data subject requests', 'dashboard-dsar'],
      ['Consent', 'Consent', 'dashboard-consent'],
      ['Staff', 'Staff', 'dashboard-staff'],
      ['Fraud review', 'Fraud review queue', 'dashboard-fraud'],
      ['Recommendation fairness', 'Recommendation exposure and fairness', 'dashboard-fairness'],
    ] as const) {
      await page
        .getByRole('navigation', { name: 'Main navigation' })
        .getByRole('link', { name: link, exact: true })
        .click();
      await page.getByRole('heading', { name: heading, exact: true, level: 1 }).waitFor();
      // Every "Loading…" line is gone: the page has its data (or shows an error, checked next).
      await page.waitForFunction(() => document.querySelectorAll('main [role="status"].muted').length === 0);
      expect(await page.locator('main [role="alert"]').count(), `${link} shows an error`).toBe(0);
      expect(await seriousViolations(page), link).toEqual([]);
      await screenshot(page, shot);
    }

    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Data requests' })
      .click();
    const row = page.getByRole('row', { name: new RegExp(erasure.requestId) });
    await row.getByText('Completed').waitFor();
    expect(await row.getByText('UU_PDP').count()).toBe(1);

    // The audit log: the owner's sign-in is there and the chain verifies.
    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Audit log' })
      .click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText(/^Chain intact: \d+ entries/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-audit');

    // Languages: the same page in Indonesian and Traditional Chinese.
    await page.getByLabel('Language').selectOption('id');
    await page.getByRole('heading', { name: 'Log audit', level: 1 }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('id');
    await page.getByLabel('Bahasa').selectOption('zh-Hant');
    await page.getByRole('heading', { name: '審計日誌', level: 1 }).waitFor();
    await page.getByLabel('語言').selectOption('en');
    await page.close();
  });

  it('a marketer sees no customer pages and cannot open a customer’s personal data', async () => {
    const marketer = await server.createStaff('marketer');
    const page = await newPage();
    await signIn(page, server.url, marketer);
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'Overview' }).waitFor();
    for (const hidden of ['Customers', 'Data requests', 'Staff', 'Audit log', 'API keys'])
      expect(await nav.getByRole('link', { name: hidden, exact: true }).count(), hidden).toBe(0);

    // Typing the address does not help: the page refuses, and so does the API behind it.
    await page.goto(`${server.url}/customers`);
    await page.getByRole('alert').getByText('Your role does not give access to this page.').waitFor();
    expect(await page.getByLabel('Customer or subject id').count()).toBe(0);
    const status = await page.evaluate(async () => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string };
      const res = await fetch('/v1/profiles/pii-read', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
        body: JSON.stringify({ subjectId: 'cust-1', purpose: 'order_support' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('a privacy officer completes an export request and an erasure request', async () => {
    // Two signed-in shoppers ask the shop (their shopper token proves who they are), each with a consent
    // on the ledger so there is something to export and to erase.
    const ask = async (customer: string, kind: 'export' | 'erase') => {
      const notice = (await (await fetch(`${server.url}/v1/consent/notices/current`)).json()) as {
        version: string;
      };
      const consent = await fetch(`${server.url}/v1/consent`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Basic ${Buffer.from(`${server.writeKey}:`).toString('base64')}`,
        },
        body: JSON.stringify({
          userId: customer,
          purposes: { marketing_email: true },
          noticeVersion: notice.version,
        }),
      });
      expect(consent.status).toBe(201);
      const token = await server.shopperToken(customer);
      const res = await fetch(`${server.url}/v1/me/requests`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ kind, jurisdiction: 'gdpr' }),
      });
      expect(res.status).toBe(202);
      return { token, ...((await res.json()) as { requestId: string; status: string }) };
    };
    const exportReq = await ask('e2e-dsar-export', 'export');
    const eraseReq = await ask('e2e-dsar-erase', 'erase');
    expect([exportReq.status, eraseReq.status]).toEqual(['verified', 'verified']);
    const granted = async (token: string) => {
      const res = await fetch(`${server.url}/v1/me/consent`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { current: Record<string, { granted: boolean } | undefined> };
      return body.current.marketing_email?.granted === true;
    };
    expect(await granted(eraseReq.token)).toBe(true);

    const officer = await server.createStaff('privacy_officer');
    const page = await newPage();
    await signIn(page, server.url, officer);
    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Data requests' })
      .click();
    await page.getByRole('heading', { name: 'Data subject requests', level: 1 }).waitFor();

    // The export: approving produces the file the officer sends to the shopper.
    const exportRow = page.getByRole('row', { name: new RegExp(exportReq.requestId) });
    await exportRow.getByText('Verified').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportRow.getByRole('button', { name: `Approve ${exportReq.requestId}` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`export-${exportReq.requestId}.json`);
    const exported = await readFile(await download.path(), 'utf8');
    expect(exported).toContain('marketing_email');
    await page
      .getByRole('status')
      .getByText(`Request ${exportReq.requestId} completed`, { exact: false })
      .waitFor();
    await exportRow.getByText('Completed').waitFor();

    // The erasure: approving runs it; the shopper's ledger entries are gone.
    const eraseRow = page.getByRole('row', { name: new RegExp(eraseReq.requestId) });
    await eraseRow.getByRole('button', { name: `Approve ${eraseReq.requestId}` }).click();
    await eraseRow.getByText('Completed').waitFor();
    expect(await granted(eraseReq.token)).toBe(false);
    const erased = await page.evaluate(async (id) => {
      const res = await fetch(`/v1/privacy/requests/${id}`);
      return (await res.json()) as { request: { status: string }; targets: { status: string }[] };
    }, eraseReq.requestId);
    expect(erased.request.status).toBe('completed');
    expect(erased.targets.length).toBeGreaterThan(0);
    expect(erased.targets.every((t) => t.status === 'done')).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('a support agent takes over a conversation from the inbox, replies, and the bot stops replying', async () => {
    const auth = `Basic ${Buffer.from(`${server.writeKey}:`).toString('base64')}`;
    const say = async (text: string, conversationId?: string) => {
      const res = await fetch(`${server.url}/v1/chat/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: auth },
        body: JSON.stringify({ text, ...(conversationId ? { conversationId } : {}) }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        conversationId: string;
        handedOff: boolean;
        replies: unknown[];
        state: string;
      };
    };
    const asked = await say('talk to a human');
    expect(asked.handedOff).toBe(true);

    const agent = await server.createStaff('support');
    const page = await newPage();
    await signIn(page, server.url, agent);
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    expect(await nav.getByRole('link', { name: 'Overview' }).count()).toBe(0);
    await nav.getByRole('link', { name: 'Chat inbox' }).click();
    await page.getByRole('heading', { name: 'Conversations waiting for a person', level: 1 }).waitFor();
    await page.getByRole('button', { name: `Open ${asked.conversationId}` }).click();
    await page.getByRole('heading', { name: `Conversation ${asked.conversationId}` }).waitFor();
    await page.getByRole('button', { name: 'Take over' }).click();
    await page.getByText('State: agent').waitFor();
    await page.getByLabel('Your reply').fill('Hello, this is Dewi from the shop. How can I help?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Hello, this is Dewi from the shop. How can I help?').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-inbox');

    // While a person owns the conversation the bot stays silent.
    const next = await say('where is my order?', asked.conversationId);
    expect(next.state).toBe('agent');
    expect(next.replies).toEqual([]);
    await page.close();
  });

  it('signing out ends the session, and a recovery code signs back in once', async () => {
    const analyst = await server.createStaff('analyst');
    const page = await newPage();
    const codes = await signIn(page, server.url, analyst);
    expect(codes).toHaveLength(10);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Candor' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/v1/auth/me')).status);
    expect(status).toBe(401);

    for (const attempt of ['first', 'second'] as const) {
      await page.getByLabel('Email').fill(analyst.email);
      await page.getByLabel('Password').fill(analyst.password);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await page.getByLabel('Recovery code').fill(codes[0]!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      if (attempt === 'first') {
        await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in to Candor' }).waitFor();
      } else {
        // Each recovery code works once.
        await page.getByRole('alert').waitFor();
        expect(await page.getByRole('navigation', { name: 'Main navigation' }).count()).toBe(0);
      }
    }
    await page.close();
  });

  it('loaded every page under the strict CSP without a violation or a script error', () => {
    expect(cspErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
