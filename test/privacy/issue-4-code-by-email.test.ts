/**
 * Issue 4: requests by e-mail for shoppers who are not signed in. A real SMTP server (smtp-server, on a
 * local port) receives the one-time codes the installation sends through nodemailer; the shopper reads the
 * code from the message, verifies, and gets the export; an erasure is verified the same way and runs once
 * staff approve it. The answer never tells whether an address is known, wrong codes are limited, and a
 * server without a relay says what to configure.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { AuthModule } from '../../src/modules/auth/index.ts';
import type { OrdersModule } from '../../src/modules/orders/index.ts';
import { openShop, scanFor, type Shop } from './helpers.ts';

type Mail = { to: string; raw: string; headers: Record<string, string>; text: string };

let smtp: SMTPServer;
const inbox: Mail[] = [];
let shop: Shop;
let staffKey: string;
const tag = randomBytes(6).toString('hex');
const customerId = `cust-${tag}`;
const email = `code.${tag}@example.test`;
const stranger = `nobody.${tag}@example.test`;

/** Headers (unfolded, lower-case names) and the decoded text body of a single-part message. */
function parse(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body
              .replace(/=\r\n/g, '')
              .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8')
        : body;
  return { headers, text };
}

/** Waits until the relay has received `n` messages in all. */
async function mails(n: number): Promise<Mail[]> {
  await shop.privacy.service.settle();
  for (let i = 0; i < 200 && inbox.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  if (inbox.length < n) throw new Error(`the relay received ${inbox.length} messages, expected ${n}`);
  return inbox;
}

const codeIn = (m: Mail) => /\b(\d{6})\b/.exec(m.text)?.[1];

const request = (body: Record<string, unknown>) =>
  shop.call('POST', '/v1/privacy/requests', { body: { writeKey: shop.writeKey, ...body } });
const verify = (id: string, code: string) =>
  shop.call('POST', `/v1/privacy/requests/${id}/verify`, { body: { writeKey: shop.writeKey, code } });
const wrongOf = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw, ...parse(raw) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as AddressInfo).port;
  shop = await openShop(undefined, undefined, {
    config: {
      smtpUrl: `smtp://127.0.0.1:${port}`,
      smtpFrom: 'Toko Contoh <privacy@shop.example>',
      publicUrl: 'https://toko.example',
    },
  });
  const auth = shop.candor.modules.find((m) => m.name === 'auth') as AuthModule;
  staffKey = `Bearer ${(await auth.keys.createServerKey({ name: 'privacy desk', scopes: ['dsar:manage'] }, 'system:test')).key}`;

  const consent = await shop.call('POST', '/v1/consent', {
    body: {
      writeKey: shop.writeKey,
      userId: customerId,
      purposes: { analytics: true, personalization: true },
      noticeVersion: '1',
    },
  });
  expect(consent.status).toBe(201);
  await shop.track({ type: 'identify', userId: customerId, traits: { email, name: `Code Shopper ${tag}` } });
  await shop.track({
    type: 'track',
    event: 'Product Viewed',
    userId: customerId,
    properties: { product_id: `p-${tag}`, category: 'Tents' },
  });
  await shop.waitForEvents(2);
});

afterAll(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  await new Promise<void>((r) => smtp.close(() => r()));
});

describe('issue 4: export and erasure by one-time code over e-mail', () => {
  it('answers a known and an unknown address alike, and mails a code only to the known one', async () => {
    const known = await request({ email, kind: 'export', jurisdiction: 'gdpr', locale: 'id' });
    const unknown = await request({ email: stranger, kind: 'export', jurisdiction: 'gdpr', locale: 'id' });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    const a = (await known.json()) as Record<string, unknown>;
    const b = (await unknown.json()) as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(['requestId']);
    expect(Object.keys(b)).toEqual(['requestId']);

    const [mail] = await mails(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(inbox).toHaveLength(1);
    expect(mail!.to).toBe(email);
    expect(mail!.headers['content-language']).toBe('id');
    expect(mail!.text).toContain('Kode Anda');
    expect(mail!.text).toContain('10 menit');
    expect(mail!.headers.from).toContain('privacy@shop.example');

    // The shopper enters the code from the message and gets everything held about them.
    const code = codeIn(mail!)!;
    expect(code).toMatch(/^\d{6}$/);
    const res = await verify(a.requestId as string, code);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      export: { sections: Record<string, { tables: Record<string, unknown[]> }> };
    };
    expect(body.status).toBe('completed');
    expect(JSON.stringify(body.export.sections.profiles)).toContain(email);
    expect(body.export.sections['event-store']!.tables.events!.length).toBeGreaterThanOrEqual(2);
    // A code works once.
    expect((await verify(a.requestId as string, code)).status).toBe(409);

    // Nothing in the log names the address or the code.
    const log = readFileSync(shop.logFile, 'utf8');
    expect(log).not.toContain(email);
    expect(log).not.toContain(code);
  });

  it('limits wrong codes the same way for a known and an unknown address', async () => {
    const start = inbox.length;
    const known = (await (
      await request({ email, kind: 'export', jurisdiction: 'uu_pdp', locale: 'en' })
    ).json()) as { requestId: string };
    const unknown = (await (
      await request({ email: stranger, kind: 'export', jurisdiction: 'uu_pdp' })
    ).json()) as { requestId: string };
    const mail = (await mails(start + 1))[start]!;
    expect(mail.text).toMatch(/^Your code is \d{6}/);
    const code = codeIn(mail)!;

    const answers = async (id: string, right: string) => {
      const out: { status: number; code: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await verify(id, wrongOf(right));
        out.push({ status: r.status, code: ((await r.json()) as { error: { code: string } }).error.code });
      }
      // Locked: even the right code is refused now.
      const r = await verify(id, right);
      out.push({ status: r.status, code: ((await r.json()) as { error: { code: string } }).error.code });
      return out;
    };
    const expected = [
      ...Array.from({ length: 5 }, () => ({ status: 400, code: 'invalid_request' })),
      { status: 429, code: 'rate_limited' },
    ];
    expect(await answers(known.requestId, code)).toEqual(expected);
    expect(await answers(unknown.requestId, code)).toEqual(expected);
    const queued = await shop.call('GET', `/v1/privacy/requests/${known.requestId}`, { auth: staffKey });
    expect(((await queued.json()) as { request: { status: string } }).request.status).toBe(
      'awaiting_verification',
    );
  });

  it('mails a code to a guest who only checked out without an account, and exports their orders', async () => {
    const orders = shop.candor.modules.find((m) => m.name === 'orders') as OrdersModule;
    const guest = `guest.${tag}@example.test`;
    const order = {
      id: 880001,
      name: '#880001',
      order_number: 880001,
      // As typed at checkout: the stored hash is of the normalised address.
      email: ` Guest.${tag}@Example.test `,
      created_at: '2025-03-01T09:00:00Z',
      updated_at: '2025-03-01T09:00:00Z',
      currency: 'IDR',
      total_price: '75000',
      financial_status: 'paid',
      customer: null,
      line_items: [{ product_id: 9, sku: 'KAOS-9', quantity: 1, price: '75000' }],
      fulfillments: [{ tracking_number: 'SICEPAT9', tracking_url: 'https://track.example/9' }],
      refunds: [],
    };
    expect(await orders.service.fromPlatform('shopify', 'orders/create', order, null)).toBe('created');

    const start = inbox.length;
    const created = await request({ email: guest, kind: 'export', jurisdiction: 'gdpr', locale: 'en' });
    expect(created.status).toBe(202);
    expect(Object.keys((await created.clone().json()) as object)).toEqual(['requestId']);
    const { requestId } = (await created.json()) as { requestId: string };
    const mail = (await mails(start + 1))[start]!;
    expect(mail.to).toBe(guest);
    // Staff cannot resend to a guest (the shop keeps only the address's hash): told so, and the code the
    // guest already has keeps working.
    const resend = await shop.call('POST', `/v1/privacy/requests/${requestId}/resend-code`, {
      auth: staffKey,
    });
    expect(resend.status).toBe(409);
    const refused = (await resend.json()) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe('conflict');
    expect(refused.error.message).toMatch(/no address for this shopper.*still works/);
    expect(inbox.length).toBe(start + 1);
    const res = await verify(requestId, codeIn(mail)!);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      export: { sections: Record<string, { tables: Record<string, unknown[]> }> };
    };
    expect(body.status).toBe('completed');
    const rows = body.export.sections.orders!.tables.orders as { orderId: string; trackingNumber: string }[];
    expect(rows.map((r) => [r.orderId, r.trackingNumber])).toEqual([['880001', 'SICEPAT9']]);
    // The guest is no one else: no profile, no events of the signed-up shopper.
    expect(JSON.stringify(body.export.sections)).not.toContain(email);
    expect(body.export.sections['event-store']?.tables.events ?? []).toEqual([]);
    const log = readFileSync(shop.logFile, 'utf8');
    expect(log).not.toContain(guest);
  });

  it('verifies an erasure by code; staff approve it and the shopper is gone with a signed receipt', async () => {
    const start = inbox.length;
    const created = await request({ email, kind: 'erase', jurisdiction: 'ccpa', locale: 'zh' });
    expect(created.status).toBe(202);
    const { requestId } = (await created.json()) as { requestId: string };
    const mail = (await mails(start + 1))[start]!;
    expect(mail.headers['content-language']).toBe('zh');
    expect(mail.text).toContain('您的验证码是');

    // Staff can never approve before the shopper proves the address is theirs.
    const early = await shop.call('POST', `/v1/privacy/requests/${requestId}/approve`, { auth: staffKey });
    expect(early.status).toBe(412);

    const verified = await verify(requestId, codeIn(mail)!);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ status: 'verified' });

    const approved = await shop.call('POST', `/v1/privacy/requests/${requestId}/approve`, { auth: staffKey });
    expect(approved.status).toBe(200);
    const status = (await approved.json()) as {
      status: string;
      receipt: Parameters<typeof verifyReceipt>[0];
    };
    expect(status.status).toBe('completed');
    expect(verifyReceipt(status.receipt)).toBe(true);
    expect(status.receipt.eventPurge?.status).toBe('purged');

    // A new request for the erased address is answered as for any unknown one: no message.
    const after = await request({ email, kind: 'export', jurisdiction: 'gdpr' });
    expect(after.status).toBe(202);
    await shop.privacy.service.settle();
    await new Promise((r) => setTimeout(r, 100));
    expect(inbox).toHaveLength(start + 1);

    const pseudo = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!);
    const dataDir = shop.candor.config.dataDir;
    await shop.close();
    expect(scanFor(dataDir, [email, customerId, pseudo('user', customerId)])).toEqual([]);
  });
});

describe('issue 4: requests by e-mail without a relay', () => {
  it('answers 503 with a code and what to configure, the same for a known and an unknown address', async () => {
    const bare = await openShop();
    try {
      const consent = await bare.call('POST', '/v1/consent', {
        body: { writeKey: bare.writeKey, userId: 'c-1', purposes: { analytics: true }, noticeVersion: '1' },
      });
      expect(consent.status).toBe(201);
      await bare.track({ type: 'identify', userId: 'c-1', traits: { email: 'known@example.test' } });
      const answers = [];
      for (const address of ['known@example.test', 'unknown@example.test']) {
        const res = await bare.call('POST', '/v1/privacy/requests', {
          body: { writeKey: bare.writeKey, email: address, kind: 'export', jurisdiction: 'gdpr' },
        });
        const body = (await res.json()) as {
          error: { code: string; message: string; details: { configure: string[] } };
        };
        answers.push({ status: res.status, code: body.error.code, configure: body.error.details.configure });
        expect(body.error.message).toMatch(/CANDOR_SMTP_URL/);
      }
      expect(answers).toEqual([
        { status: 503, code: 'unavailable', configure: ['CANDOR_SMTP_URL', 'CANDOR_SMTP_FROM'] },
        { status: 503, code: 'unavailable', configure: ['CANDOR_SMTP_URL', 'CANDOR_SMTP_FROM'] },
      ]);
      // Nothing was recorded for either.
      expect(await bare.privacy.service.dsar.list()).toEqual([]);
    } finally {
      await bare.close();
      bare.dir.cleanup();
    }
  });
});
