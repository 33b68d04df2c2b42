/**
 * Campaign behaviour every store pair must show (SQLite + DuckDB in `npm test`, PostgreSQL in the server
 * suite), against a real SMTP server and a real webhook receiver started here: consent at send time,
 * frequency caps, quiet hours in the shopper's own time zone, the suppression list, RFC 8058 one-click
 * unsubscribe, templates in the shopper's language, idempotent and resumable sends, hold-out and lift.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../src/kernel/crypto.ts';
import {
  DAY,
  NOW,
  event,
  openCampaignHarness,
  type CampaignHarness,
  type OpenTestStores,
} from './campaigns.kit.ts';

type Delivered = { to: string; raw: string };

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:\\s*(.+(?:\\r?\\n[ \\t].+)*)`, 'im').exec(raw)?.[1]?.replace(/\r?\n[ \t]+/g, ' ') ??
  null;
const to = (m: Delivered) => m.to;
const template = {
  subject: { en: 'Hi {{name}}, new arrivals', id: 'Halo {{name}}, produk baru', zh: '{{name}}，新品上市' },
  text: {
    en: 'Hello {{name}}\n{{products}}\nUnsubscribe: {{unsubscribe_url}}',
    id: 'Halo {{name}}\n{{products}}',
    zh: '您好 {{name}}\n{{products}}',
  },
};

export function campaignsContract(name: string, open: OpenTestStores): void {
  describe(`campaigns (${name})`, () => {
    let smtp: SMTPServer;
    let port = 0;
    const delivered: Delivered[] = [];
    let onDelivered: (() => void) | null = null;
    let h: CampaignHarness;

    beforeAll(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            delivered.push({
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            onDelivered?.();
            cb();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
      port = (smtp.server.address() as AddressInfo).port;
      h = await openCampaignHarness(open, {
        smtp: { host: '127.0.0.1', port, from: 'Toko <news@shop.example>' },
      });
      const subjects = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
      await h.stores.events.append(subjects.map((s) => event(s, 'product_view', NOW - DAY)));
      const c = (email: string | null, extra: Partial<{ name: string }> = {}) => ({
        email,
        name: extra.name ?? null,
      });
      const yes = { marketing_email: true };
      h.shoppers.set('a1', {
        consent: { ...yes, personalization: true },
        personalised: true,
        contact: c('a1@x.test', { name: 'Ana' }),
      });
      // Locales and time zones are what the shoppers' own devices reported (profiles), never the contact.
      h.shoppers.set('a2', {
        consent: yes,
        contact: c('a2@x.test', { name: 'Budi' }),
        preferences: { locale: 'id-ID' },
      });
      h.shoppers.set('a3', { consent: yes, contact: c('a3@x.test'), preferences: { locale: 'zh-CN' } });
      h.shoppers.set('a4', { consent: yes, contact: c(null) }); // no address
      h.shoppers.set('a5', { consent: yes, contact: c('a5@x.test') }); // suppressed below
      h.shoppers.set('a6', { consent: { marketing_email: false }, contact: c('a6@x.test') }); // no consent
      h.shoppers.set('a7', {
        consent: yes,
        contact: c('a7@x.test'),
        preferences: { timeZone: 'Asia/Tokyo' }, // 21:00 there
      });
      await h.segments.create({
        key: 'viewers',
        name: 'Viewers',
        rule: { event: 'product_view', min: 1, withinDays: 30 },
      });
      await h.campaigns.suppress(['a5'], 'all', 'bounced');
    });
    afterAll(async () => {
      await h.close();
      await new Promise<void>((r) => smtp.close(() => r()));
    });

    describe('e-mail campaigns over SMTP', () => {
      it('dry run lists who would receive it and exclusions by reason, and sends nothing', async () => {
        await h.campaigns.create({
          key: 'spring',
          name: 'Spring',
          segment: 'viewers',
          channel: 'email',
          template,
          quietHours: { start: 21, end: 8 },
          frequencyCap: { count: 0, days: 7 },
        });
        const r = await h.campaigns.send('spring', { dryRun: true });
        expect(r.recipients.sort()).toEqual(['a1', 'a2', 'a3']);
        expect(r.excluded).toMatchObject({ suppressed: 1, no_consent: 1, no_address: 1 });
        expect(r.deferred).toBe(1);
        expect(delivered).toHaveLength(0);
        expect((await h.campaigns.get('spring')).status).toBe('draft');
      });

      it('a send stopped midway and resumed delivers each message exactly once', async () => {
        const stop = new AbortController();
        onDelivered = () => stop.abort();
        const first = await h.campaigns.send('spring', { signal: stop.signal });
        onDelivered = null;
        expect(first.stopped).toBe(true);
        expect(first.sent).toBe(1);
        expect(delivered).toHaveLength(1);
        const second = await h.campaigns.send('spring');
        expect(second.sent).toBe(2);
        expect(second.alreadySent).toBe(1);
        expect(second.deferred).toBe(1); // a7: quiet hours in Tokyo
        expect(delivered.map(to).sort()).toEqual(['a1@x.test', 'a2@x.test', 'a3@x.test']);
        const again = await h.campaigns.send('spring');
        expect(again.sent).toBe(0);
        expect(delivered).toHaveLength(3);
        // After quiet hours end in Tokyo (09:00 local), the resume job sends the deferred message.
        h.clock.advance(12 * 60 * 60 * 1000);
        const later = await h.campaigns.send('spring');
        expect(later.recipients).toEqual(['a7']);
        expect(later.status).toBe('sent');
        expect(delivered.map(to).filter((t) => t === 'a7@x.test')).toHaveLength(1);
      });

      it('a claim left by a dead process is never sent again', async () => {
        await h.campaigns.create({
          key: 'crash',
          name: 'Crash',
          segment: 'viewers',
          channel: 'email',
          template,
          frequencyCap: { count: 0, days: 1 },
        });
        const stop = new AbortController();
        stop.abort();
        await h.campaigns.send('crash', { signal: stop.signal }); // plans, sends nothing
        // Simulate a process that claimed a1's row and died before recording the delivery.
        await h.stores.state.db
          .updateTable('mkt_campaign_sends')
          .set({ status: 'sending', claimed_at: h.clock.now().getTime() - 60 * 60_000 })
          .where('subject_id', '=', 'a1')
          .where('status', '=', 'pending')
          .execute();
        const before = delivered.length;
        const r = await h.campaigns.send('crash');
        expect(r.unknown).toBe(1);
        expect(delivered.slice(before).map(to).sort()).toEqual(['a2@x.test', 'a3@x.test', 'a7@x.test']);
      });

      it('carries RFC 8058 headers, localised text and personalisation only with consent', async () => {
        const ana = delivered.find((m) => m.to === 'a1@x.test')!.raw;
        const budi = delivered.find((m) => m.to === 'a2@x.test')!.raw;
        expect(header(ana, 'List-Unsubscribe')).toMatch(
          /^<https:\/\/shop\.example\/v1\/unsubscribe\/[^>]+>$/,
        );
        expect(header(ana, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
        expect(header(ana, 'Subject')).toContain('Hi Ana');
        expect(ana).toContain('Trail shoe'); // personalised product block
        // Budi is not personalised: no name, the popular list, Indonesian text.
        expect(budi).toContain('Halo Kak');
        expect(budi).not.toContain('Budi');
        expect(budi).toContain('Best seller');
        // The language is the shopper's reported locale: English (none), Indonesian (id-ID), Chinese (zh-CN).
        expect(header(ana, 'Content-Language')).toBe('en');
        expect(header(budi, 'Content-Language')).toBe('id');
        expect(header(delivered.find((m) => m.to === 'a3@x.test')!.raw, 'Content-Language')).toBe('zh');
        expect(h.shares.filter((s) => s.purpose === 'marketing_email')).toHaveLength(delivered.length);
        expect(h.shares.find((s) => s.subjectId === 'a1')?.categories).toContain('name');
        expect(h.shares.find((s) => s.subjectId === 'a2')?.categories).not.toContain('name');
      });

      it('one-click unsubscribe takes effect before the next send; caps apply across campaigns', async () => {
        const raw = delivered.find((m) => m.to === 'a2@x.test')!.raw;
        const url = new URL(header(raw, 'List-Unsubscribe')!.slice(1, -1));
        expect((await h.request(url.pathname, { method: 'GET' })).status).toBe(200);
        await h.campaigns.create({
          key: 'next',
          name: 'Next',
          segment: 'viewers',
          channel: 'email',
          template,
          frequencyCap: { count: 0, days: 7 },
        });
        const dry = await h.campaigns.send('next', { dryRun: true });
        expect(dry.recipients).toContain('a2'); // a GET alone never unsubscribes
        const res = await h.request(url.pathname, { method: 'POST' });
        expect(res.status).toBe(200);
        const before = delivered.length;
        const r = await h.campaigns.send('next');
        expect(r.excluded.suppressed).toBe(2);
        expect(delivered.slice(before).map(to)).not.toContain('a2@x.test');
        const forged = await h.request(`${url.pathname.slice(0, -4)}AAAA`, { method: 'POST' });
        expect(forged.status).toBe(400);
        await h.campaigns.create({
          key: 'capped',
          name: 'Capped',
          segment: 'viewers',
          channel: 'email',
          template,
          frequencyCap: { count: 2, days: 7 },
        });
        const capped = await h.campaigns.send('capped', { dryRun: true });
        expect(capped.recipients).toEqual([]);
        // a1, a3 and a7 had two messages this week; a2 and a5 are suppressed first.
        expect(capped.excluded).toMatchObject({ frequency_cap: 3, suppressed: 2 });
      });
      it("falls back to the campaign's language and zone, and defers by the shopper's own zone", async () => {
        await h.stores.events.append(['b1', 'b2', 'b3'].map((s) => event(s, 'page_view', NOW - DAY)));
        const yes = { marketing_email: true };
        h.shoppers.set('b1', { consent: yes, contact: { email: 'b1@x.test', name: null } });
        // An unsupported language and an unknown zone: the campaign's default language and zone apply.
        h.shoppers.set('b2', {
          consent: yes,
          contact: { email: 'b2@x.test', name: null },
          preferences: { locale: 'fr-FR', timeZone: 'Mars/Olympus_Mons' },
        });
        h.shoppers.set('b3', {
          consent: yes,
          contact: { email: 'b3@x.test', name: null },
          preferences: { locale: 'zh-TW', timeZone: 'America/Los_Angeles' },
        });
        await h.segments.create({
          key: 'readers',
          name: 'Readers',
          rule: { event: 'page_view', min: 1, withinDays: 30 },
        });
        // Now 2025-03-02T00:00Z: 07:00 in Jakarta (the campaign's zone), 16:00 the day before in Los Angeles.
        expect(h.clock.now().toISOString()).toBe('2025-03-02T00:00:00.000Z');
        await h.campaigns.create({
          key: 'harian',
          name: 'Harian',
          segment: 'readers',
          channel: 'email',
          template: { ...template, defaultLocale: 'id' },
          quietHours: { start: 12, end: 20 },
          timeZone: 'Asia/Jakarta',
          frequencyCap: { count: 0, days: 7 },
        });
        const before = delivered.length;
        const r = await h.campaigns.send('harian');
        expect(r.recipients.sort()).toEqual(['b1', 'b2']);
        expect(r.deferred).toBe(1);
        const got = delivered.slice(before);
        expect(got.map((m) => header(m.raw, 'Content-Language'))).toEqual(['id', 'id']);
        expect(got[0]!.raw).toContain('Halo Kak');
        // 20:00 in Los Angeles: quiet hours are over there, and b3 reads Chinese.
        h.clock.advance(4 * 60 * 60 * 1000);
        const later = await h.campaigns.send('harian');
        expect(later.recipients).toEqual(['b3']);
        expect(header(delivered.at(-1)!.raw, 'Content-Language')).toBe('zh');
      });
      it('two senders running at once deliver each message once', async () => {
        await h.campaigns.create({
          key: 'race',
          name: 'Race',
          segment: 'readers',
          channel: 'email',
          template,
          frequencyCap: { count: 0, days: 7 },
        });
        const before = delivered.length;
        const [x, y] = await Promise.all([h.campaigns.send('race'), h.campaigns.send('race')]);
        expect(x.sent + y.sent).toBe(3);
        expect(delivered.slice(before).map(to).sort()).toEqual(['b1@x.test', 'b2@x.test', 'b3@x.test']);
        expect((await h.campaigns.get('race')).status).toBe('sent');
      });
    });

    describe('webhook campaigns with a hold-out group', () => {
      let server: Server;
      const received: { body: string; sig: string; key: string }[] = [];
      let failNext = 1;
      beforeAll(async () => {
        server = createServer((req, res) => {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString()));
          req.on('end', () => {
            if (failNext > 0) {
              failNext--;
              res.statusCode = 503;
              return res.end();
            }
            received.push({
              body,
              sig: String(req.headers['x-candor-signature']),
              key: String(req.headers['idempotency-key']),
            });
            res.end('ok');
          });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      });
      afterAll(async () => new Promise<void>((r) => server.close(() => r())));

      it('signs and retries webhooks, and measures lift against the hold-out', async () => {
        const ids = Array.from({ length: 200 }, (_, i) => `w${String(i).padStart(3, '0')}`);
        await h.stores.events.append(ids.map((s) => event(s, 'search', NOW - DAY)));
        for (const s of ids) h.shoppers.set(s, { consent: { marketing_push: true } });
        await h.segments.create({
          key: 'searchers',
          name: 'Searchers',
          rule: { event: 'search', min: 1, withinDays: 30 },
        });
        const { port: wp } = server.address() as AddressInfo;
        await h.campaigns.create({
          key: 'push',
          name: 'Push',
          segment: 'searchers',
          channel: 'webhook',
          template,
          holdout: 0.5,
          webhookUrl: `http://127.0.0.1:${wp}/push`,
          frequencyCap: { count: 0, days: 1 },
        });
        const r = await h.campaigns.send('push');
        expect(r.sent + r.holdout).toBe(200);
        expect(r.holdout).toBeGreaterThan(60);
        expect(received).toHaveLength(r.sent); // the 503 was retried, nothing duplicated
        expect(new Set(received.map((x) => x.key)).size).toBe(r.sent);
        const { sig, body } = received[0]!;
        const [t, v1] = sig.split(',').map((p) => p.split('=')[1]!) as [string, string];
        expect(v1).toBe(
          hmacSha256('test-secret-for-signing-links-0123456789', `${t}.${body}`).toString('hex'),
        );
        // Plant conversions: 60% of treated shoppers buy within the window, 10% of the hold-out.
        const sent = new Set(r.recipients);
        const held = ids.filter((s) => !sent.has(s));
        const start = h.clock.now().getTime();
        await h.stores.events.append([
          ...[...sent].filter((_, i) => i % 10 < 6).map((s) => event(s, 'order_completed', start + DAY)),
          ...held.filter((_, i) => i % 10 < 1).map((s) => event(s, 'order_completed', start + DAY)),
          // Outside the 7-day window: not counted.
          ...held.map((s) => event(s, 'order_completed', start + 30 * DAY)),
        ]);
        const res = await h.request('/v1/campaigns/push/results', { perms: 'marketing:read' });
        const out = (await res.json()) as {
          treatment: { rate: number };
          holdout: { rate: number };
          lift: { absolute: number; pValue: number };
        };
        expect(out.treatment.rate).toBeGreaterThan(0.5);
        expect(out.holdout.rate).toBeLessThan(0.2);
        expect(out.lift.absolute).toBeGreaterThan(0.3);
        expect(out.lift.pValue).toBeLessThan(0.001);
      });
    });
  });
}
