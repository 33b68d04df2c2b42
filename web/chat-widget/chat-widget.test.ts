// The chat widget in Debian's Chromium: one script tag on a shop page of another origin, talking to a real
// Candor (SQLite + DuckDB in a temp dir) through CORS with the shop's public write key.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startCollector, type Collector } from '../../test/browser/support.ts';

let collector: Collector;
let shop: { url: string; close(): Promise<void> };
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  collector = await startCollector();
  const page = (lang: string) => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>Widget shop</title></head>
<body><h1>Widget shop</h1>
<script src="${collector.url}/chat-widget.js" data-write-key="${collector.writeKey}" async></script>
</body></html>`;
  const server = createServer((req, res) => {
    const lang = new URL(req.url ?? '/', 'http://shop').searchParams.get('lang') ?? 'en';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(lang.replace(/[^a-zA-Z-]/g, '')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  shop = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await collector?.close();
});

async function say(page: Page, text: string, replies: number): Promise<string> {
  await page.fill('[data-candor-chat] input', text);
  await page.click('[data-candor-chat] form button');
  const bot = page.locator('[data-candor-chat] .msg.bot');
  await expect.poll(() => bot.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(replies);
  return (await bot.nth(replies - 1).textContent()) ?? '';
}

describe('chat widget', () => {
  it('opens from one script tag, answers, and keeps the conversation across a reload', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${shop.url}/?lang=en`);
    await page.click('[data-candor-chat] .launcher');
    await expect.poll(() => page.locator('[data-candor-chat] .msg.bot').count()).toBe(1); // the greeting
    expect(await say(page, 'where is my order?', 2)).toMatch(/order number/i);
    // The conversation id lives in sessionStorage: after a reload the order form continues.
    await page.reload();
    await page.click('[data-candor-chat] .launcher');
    expect(await say(page, 'ORD-12345', 2)).toMatch(/e-mail/i);
    // POSTs only (the CORS preflights carry no body): one per message, none retried or doubled.
    const chat = collector.requests.filter(
      (r) => r.path === '/v1/chat/messages' && typeof r.body === 'object' && r.body !== null,
    );
    expect(chat.length).toBe(2);
    expect(chat.every((r) => r.status === 200)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows what a shopper types as text, never as markup', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${shop.url}/?lang=en`);
    await page.click('[data-candor-chat] .launcher');
    await say(page, '<img src=x onerror="window.pwned=1"> hello', 2);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('[data-candor-chat] .msg.me').first().textContent()).toContain('<img src=x');
    expect(await page.locator('[data-candor-chat] img').count()).toBe(0);
    await page.close();
  });

  it('speaks the page language', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${shop.url}/?lang=zh-TW`);
    expect(await page.locator('[data-candor-chat] .launcher').textContent()).toBe('線上客服');
    await page.click('[data-candor-chat] .launcher');
    expect(await say(page, '我要退貨', 2)).toMatch(/\p{Script=Han}/u);
    await page.close();
  });
});
