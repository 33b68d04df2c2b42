/**
 * Issue 10, end to end over HTTP on a real installation: a shop's signed order webhooks become order
 * records; the chat answers "where is my order" with status, carrier and tracking after verifying the
 * e-mail (or the signed-in shopper), in every shop language, without telling wrong e-mails from unknown
 * orders; erasure keeps only the tax record, unlinked. Then agent replies on WhatsApp go out through the
 * outbox to a local server playing the Graph API, retried with backoff when it fails.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import { testConfig } from '../../src/kernel/config.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import type { CandorModule } from '../../src/kernel/module.ts';
import { signShopperToken, type AuthModule } from '../../src/modules/auth/index.ts';
import { signBody } from '../../src/modules/chatbot/channels.ts';
import { whatsappDelivery } from '../../src/modules/chatbot/channels.testkit.ts';
import type { IngestModule } from '../../src/modules/ingest/index.ts';
import { signWebhook } from '../../src/modules/ingest/webhooks.service.ts';
import type { OrdersModule } from '../../src/modules/orders/index.ts';
import { checkCoverage, type PrivacyModule } from '../../src/modules/privacy/index.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { makeTempDir } from '../../src/storage/testing.ts';
import { scanFor } from '../privacy/helpers.ts';

const SHOPIFY_SECRET = 'shpss_0123456789abcdef0123456789abcdef';
const APP_SECRET = 'meta-app-secret-for-tests';
const PHONE = '6281234567890';
const PHONE_2 = '6289876543210';
const AGENT_TEXT =
  'Hi, this is Sari from the shop. Your parcel is with SiCepat, tracking SICEPAT004455667788.';

type Sent = { url: string; auth: string | undefined; body: Record<string, unknown>; status?: number };

/** A local Graph API: answers 500 while `failNext` > 0 (counting down), else 200; records every call. */
async function graphServer() {
  const sent: Sent[] = [];
  const control = { failNext: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      sent.push({
        url: req.url ?? '',
        auth: req.headers.authorization,
        body: JSON.parse(raw) as Record<string, unknown>,
      });
      const fail = control.failNext > 0;
      if (fail) control.failNext--;
      sent.at(-1)!.status = fail ? 500 : 200;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          fail
            ? { error: { code: 2, message: 'Service temporarily unavailable' } }
            : { messages: [{ id: `wamid.out${sent.length}` }] },
        ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    control,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const dir = makeTempDir('candor-issue-10');
const clock = fixedClock(new Date());
let candor: Candor;
let graph: Awaited<ReturnType<typeof graphServer>>;
let writeKey: string;
let staffKey: string;
let shopperSecret: string;
const mod = <T>(name: string) => candor.modules.find((m: CandorModule) => m.name === name) as T;

const minutesAgo = (m: number) => new Date(clock.now().getTime() - m * 60_000).toISOString();

/** A Shopify order as orders/create and orders/updated send it, trimmed. */
const order = (over: Record<string, unknown> = {}) => ({
  id: 450789469,
  name: '#1001',
  order_number: 1001,
  email: 'Ana.Lee@example.test',
  created_at: minutesAgo(60),
  processed_at: minutesAgo(60),
  updated_at: minutesAgo(60),
  currency: 'IDR',
  total_price: '259900',
  financial_status: 'paid',
  fulfillment_status: null,
  customer: { id: 207119551, email: 'ana.lee@example.test', first_name: 'Ana' },
  line_items: [{ product_id: 632910392, sku: 'KAOS-01', quantity: 2, price: '129950' }],
  fulfillments: [],
  ...over,
});

async function call(
  method: string,
  url: string,
  init: { body?: unknown; auth?: string; headers?: Record<string, string> } = {},
) {
  return candor.app.request(url, {
    method,
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.auth ? { authorization: init.auth } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined
      ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
      : {}),
  });
}

const basic = () => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

async function webhook(topic: string, payload: unknown) {
  const raw = JSON.stringify(payload);
  const res = await call('POST', '/v1/webhooks/shopify/orders', {
    body: raw,
    headers: { 'x-shopify-hmac-sha256': signWebhook(SHOPIFY_SECRET, raw), 'x-shopify-topic': topic },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { accepted: number };
}

type Chat = {
  conversationId: string;
  state: string;
  handedOff: boolean;
  replies: { text: string; source?: { url: string } }[];
};

async function chat(text: string, conversationId?: string, auth = basic()): Promise<Chat> {
  const res = await call('POST', auth.startsWith('Basic') ? '/v1/chat/messages' : '/v1/me/chat/messages', {
    auth,
    body: { text, ...(conversationId ? { conversationId } : {}) },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Chat;
}

beforeAll(async () => {
  graph = await graphServer();
  const config = testConfig(path.join(dir.path, 'data'), {
    chatbot: {
      whatsapp: {
        verifyToken: 'verify-me',
        appSecret: APP_SECRET,
        accessToken: 'EAAG-test',
        baseUrl: graph.url,
      },
    },
  });
  shopperSecret = config.secrets.shopperTokenSecret!;
  candor = await createCandor(config, { logger: silentLogger(), clock, jobs: false });
  const auth = mod<AuthModule>('auth');
  const source = await auth.keys.createSource('web', 'system:test');
  writeKey = source.writeKey;
  staffKey = (
    await auth.keys.createServerKey(
      { name: 'support desk', scopes: ['chat:agent', 'orders:read'] },
      'system:test',
    )
  ).key;
  await mod<IngestModule>('ingest').webhooks.createSecret({
    sourceId: source.sourceId,
    platform: 'shopify',
    secret: SHOPIFY_SECRET,
    actor: 'test',
  });
}, 60_000);

afterAll(async () => {
  await candor?.close();
  await graph?.close();
  dir.cleanup();
});

describe('order status in the chat, fed by the shop’s webhooks', () => {
  it('a webhook order, then its fulfilment, answers the chat with status, carrier and tracking after e-mail verification', async () => {
    expect((await webhook('orders/create', order())).accepted).toBe(1);
    // A fulfilment update: the order record changes, no second order event is stored.
    const fulfilled = order({
      updated_at: minutesAgo(5),
      fulfillment_status: 'fulfilled',
      fulfillments: [
        {
          status: 'success',
          tracking_company: 'JNE',
          tracking_number: 'JNE0012345678',
          tracking_url: 'https://track.example.test/JNE0012345678',
        },
      ],
    });
    await webhook('orders/fulfilled', fulfilled);
    await mod<OrdersModule>('orders').service.drain();

    const a = await chat('where is my order #1001');
    expect(a.replies[0]!.text).toMatch(/e-mail/);
    const b = await chat('ana.lee@example.test', a.conversationId);
    expect(b.replies[0]!.text).toBe('Order 1001: shipped. It is with JNE, tracking number JNE0012345678.');
    expect(b.replies[0]!.source?.url).toBe('https://track.example.test/JNE0012345678');

    const id = await chat('pesanan saya #1001 sudah sampai mana? email saya ana.lee@example.test');
    expect(id.replies[0]!.text).toBe(
      'Pesanan 1001: sudah dikirim. Dikirim lewat JNE, nomor resi JNE0012345678.',
    );
    const hans = await chat('我的订单 #1001 到哪里了？邮箱 ana.lee@example.test');
    expect(hans.replies[0]!.text).toBe('订单 1001：已发货。 承运商：JNE，运单号：JNE0012345678。');
    const hant = await chat('我的訂單 #1001 到哪裡了？郵箱 ana.lee@example.test');
    expect(hant.replies[0]!.text).toContain('已發貨');
    expect(hant.replies[0]!.text).toContain('JNE0012345678');
  });

  it('a wrong e-mail gets the same answer as an unknown order, and a few tries end in a hand-off', async () => {
    const wrong = await chat('where is my order #1001, my email is someone.else@example.test');
    const unknown = await chat('where is my order #9999, my email is ana.lee@example.test');
    expect(wrong.replies.map((r) => r.text)).toEqual(unknown.replies.map((r) => r.text));
    expect(wrong.replies[0]!.text).not.toMatch(/JNE|shipped/);
    const conv = wrong.conversationId;
    await chat('where is my order #1001, email guess2@example.test', conv);
    const third = await chat('where is my order #1001, email guess3@example.test', conv);
    expect(third.handedOff).toBe(true);
    const after = await call('GET', `/v1/chat/conversations/${conv}`, { auth: basic() });
    expect(((await after.json()) as { handoffReason: string }).handoffReason).toBe('verification_failed');
  });

  it('a signed-in shopper needs no e-mail; they see their orders with tracking, staff see them without personal data', async () => {
    const token = `Bearer ${await signShopperToken(shopperSecret, '207119551', 900)}`;
    const r = await chat('where is my order #1001', undefined, token);
    expect(r.replies[0]!.text).toBe('Order 1001: shipped. It is with JNE, tracking number JNE0012345678.');
    const mine = (await (await call('GET', '/v1/me/orders', { auth: token })).json()) as {
      orders: Record<string, unknown>[];
    };
    expect(mine.orders).toEqual([
      expect.objectContaining({
        number: '1001',
        status: 'shipped',
        trackingNumber: 'JNE0012345678',
        total: 259900,
        currency: 'IDR',
      }),
    ]);
    const other = `Bearer ${await signShopperToken(shopperSecret, 'someone-else', 900)}`;
    expect(
      ((await (await call('GET', '/v1/me/orders', { auth: other })).json()) as { orders: unknown[] }).orders,
    ).toEqual([]);

    const staff = await call('GET', '/v1/orders?status=shipped', { auth: `Bearer ${staffKey}` });
    expect(staff.status).toBe(200);
    const text = await staff.text();
    expect(text).toContain('"number":"1001"');
    expect(text).toContain('"hasTracking":true');
    expect(text).not.toContain('JNE0012345678');
    expect(text).not.toMatch(/subject|email/i);
    expect((await call('GET', '/v1/orders/nope', { auth: `Bearer ${staffKey}` })).status).toBe(404);
    expect((await call('GET', '/v1/orders?status=lost', { auth: `Bearer ${staffKey}` })).status).toBe(400);
    expect((await call('GET', '/v1/orders', { auth: token })).status).toBe(401);
  });

  it('a cancel request for a shipped order is refused; for a paid one it opens a hand-off naming the order', async () => {
    await webhook('orders/create', order({ id: 450789470, name: '#1002', order_number: 1002 }));
    const refused = await chat('please cancel order #1001, email ana.lee@example.test');
    expect(refused.handedOff).toBe(false);
    expect(refused.replies[0]!.text).toMatch(/already shipped/);
    const cancel = await chat('please cancel order #1002, email ana.lee@example.test');
    expect(cancel.handedOff).toBe(true);
    const inbox = (await (await call('GET', '/v1/chat/inbox', { auth: `Bearer ${staffKey}` })).json()) as {
      conversations: { id: string; handoffReason: string; orderId: string | null }[];
    };
    expect(inbox.conversations.find((c) => c.id === cancel.conversationId)).toMatchObject({
      handoffReason: 'cancel_order',
      orderId: '1002',
    });
  });

  it('orders reported through the tracking API become records too', async () => {
    const res = await call('POST', '/v1/track', {
      auth: basic(),
      body: {
        type: 'track',
        event: 'Order Completed',
        userId: '207119551',
        messageId: 'web-order-ORD-77001',
        properties: {
          order_id: 'ORD-77001',
          revenue: 120,
          currency: 'IDR',
          products: [{ product_id: 'P9', quantity: 1, price: 120 }],
        },
      },
    });
    expect(res.status).toBe(200);
    const orders = mod<OrdersModule>('orders').service;
    for (
      let i = 0;
      i < 100 && !(await orders.list({ limit: 50 })).orders.some((o) => o.orderId === 'ORD-77001');
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const got = await call('GET', '/v1/orders/ORD-77001', { auth: `Bearer ${staffKey}` });
    expect(await got.json()).toMatchObject({ status: 'paid', source: 'events', total: 120 });
  });

  it('erasure keeps only the tax record, unlinked, says so on the receipt, and every new table is covered', async () => {
    const privacy = mod<PrivacyModule>('privacy');
    const report = await checkCoverage(privacy.registry, candor.stores);
    expect(report.uncovered).toEqual([]);
    expect(report.covered).toEqual(
      expect.arrayContaining([expect.objectContaining({ table: 'orders', column: 'email_hash' })]),
    );

    const token = `Bearer ${await signShopperToken(shopperSecret, '207119551', 900)}`;
    const exported = await (await call('GET', '/v1/me/export', { auth: token })).text();
    expect(exported).toContain('JNE0012345678');
    const erased = await call('POST', '/v1/me/erase', { auth: token, body: {} });
    expect(erased.status).toBe(200);
    const receipt = (await erased.json()) as {
      receipt?: { legalHolds: { holder: string; until: number }[] };
    };
    const body = JSON.stringify(receipt);
    expect(body).toContain('"holder":"orders"');
    const kept = (await (
      await call('GET', '/v1/orders/450789469', { auth: `Bearer ${staffKey}` })
    ).json()) as Record<string, unknown>;
    expect(kept).toMatchObject({ deidentified: true, status: 'shipped' });
    expect(
      ((await (await call('GET', '/v1/me/orders', { auth: token })).json()) as { orders: unknown[] }).orders,
    ).toEqual([]);
    const again = await chat('where is my order #1001, email ana.lee@example.test');
    expect(again.replies[0]!.text).toMatch(/could not find/);
  });
});

describe('agent replies on WhatsApp', () => {
  it('go out through the outbox, retried with backoff after a Graph API failure, sent once, with no phone number stored', async () => {
    const raw = JSON.stringify(whatsappDelivery('wamid.in1', PHONE, 'talk to a human please'));
    const inbound = await call('POST', '/v1/chat/channels/whatsapp/webhook', {
      body: raw,
      headers: { 'x-hub-signature-256': signBody(raw, APP_SECRET) },
    });
    expect(inbound.status).toBe(200);
    // The bot's hand-off message went out at once, from the webhook.
    expect(graph.sent).toHaveLength(1);

    const agent = { auth: `Bearer ${staffKey}` };
    const inbox = (await (await call('GET', '/v1/chat/inbox', agent)).json()) as {
      conversations: { id: string; channel: string }[];
    };
    const conv = inbox.conversations.find((c) => c.channel === 'whatsapp')!;
    const reply = await call('POST', `/v1/chat/conversations/${conv.id}/agent-messages`, {
      ...agent,
      body: { text: AGENT_TEXT },
    });
    expect(reply.status).toBe(200);
    const { delivery, messageId } = (await reply.json()) as { delivery: string; messageId: string };
    expect(delivery).toBe('queued');
    expect(graph.sent).toHaveLength(1);

    const jobs = candor.stores.jobs;
    const deliver = mod<CandorModule>('chatbot').jobs!['chatbot.deliver']!;
    const claimed = (await jobs.claim('w1', ['chatbot.deliver'], 60_000))!;
    expect(claimed.payload).toEqual({ messageId });
    graph.sent.length = 0;
    // The Graph API is down for this call: the job fails and is scheduled again later, not now.
    graph.control.failNext = 1;
    const error = await deliver(claimed.payload, { jobId: claimed.id, attempt: claimed.attempts }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/500/);
    expect(error?.message).not.toContain(PHONE);
    const failed = await jobs.fail(claimed.id, 'w1', error!.message);
    expect(failed.willRetry).toBe(true);
    expect(failed.nextRunAt!).toBeGreaterThan(clock.now().getTime());
    expect(await jobs.claim('w1', ['chatbot.deliver'], 60_000)).toBeNull();

    clock.advance(10 * 60_000);
    const retry = (await jobs.claim('w1', ['chatbot.deliver'], 60_000))!;
    await deliver(retry.payload, { jobId: retry.id, attempt: retry.attempts });
    await jobs.complete(retry.id, 'w1');
    const sent = graph.sent.at(-1)!;
    expect(sent.url).toBe('/v21.0/PN123/messages');
    expect(sent.auth).toBe('Bearer EAAG-test');
    expect(sent.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: PHONE,
      // As the agent wrote it: the transcript keeps it redacted, the shopper must not get "[phone]".
      text: { body: AGENT_TEXT },
    });
    const stored = await candor.stores.state.db
      .selectFrom('chat_messages' as never)
      .select(['text', 'outgoing_sealed'] as never[])
      .where('id' as never, '=', messageId as never)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({
      text: 'Hi, this is Sari from the shop. Your parcel is with SiCepat, tracking SICEPAT[phone].',
      // The sealed copy goes once delivered.
      outgoing_sealed: null,
    });
    const calls = graph.sent.length;
    // A duplicate run of the same job sends nothing: the message is marked delivered.
    await deliver(retry.payload, { jobId: retry.id, attempt: retry.attempts + 1 });
    expect(graph.sent).toHaveLength(calls);

    // The sender's number is nowhere in the data directory (the address is sealed with the key ring), and
    // the agent's tracking number never was in the clear (sealed until delivered, redacted in the transcript).
    expect(scanFor(path.join(dir.path, 'data'), [PHONE, '004455667788'])).toEqual([]);
  });
});

describe('bot replies on WhatsApp', () => {
  const delivery = (id: string, text: string) => JSON.stringify(whatsappDelivery(id, PHONE_2, text));
  const post = (raw: string) =>
    call('POST', '/v1/chat/channels/whatsapp/webhook', {
      body: raw,
      headers: { 'x-hub-signature-256': signBody(raw, APP_SECRET) },
    });
  /** What reached the shopper: calls the Graph API accepted. */
  const sentTo = () => graph.sent.filter((s) => s.body['to'] === PHONE_2 && s.status === 200);
  const deliver = () => mod<CandorModule>('chatbot').jobs!['chatbot.deliver']!;

  it('a reply the Graph API refuses goes to the outbox and reaches the shopper once, still answering 200', async () => {
    graph.control.failNext = 1;
    const res = await post(delivery('wamid.bot1', 'where is my order?'));
    // 200 all the same: an error would make Meta redeliver, and the shopper would see the bot repeat itself.
    expect(res.status).toBe(200);
    expect(sentTo()).toHaveLength(0);

    const jobs = candor.stores.jobs;
    const job = (await jobs.claim('w1', ['chatbot.deliver'], 60_000))!;
    expect(job).not.toBeNull();
    await deliver()(job.payload, { jobId: job.id, attempt: job.attempts });
    await jobs.complete(job.id, 'w1');
    expect(sentTo()).toHaveLength(1);
    expect(String((sentTo()[0]!.body['text'] as { body: string }).body)).toMatch(/order number/i);
    // The outbox sends the reply as the webhook tried to.
    const refused = graph.sent.filter((x) => x.body['to'] === PHONE_2 && x.status === 500);
    expect(sentTo()[0]!.body['text']).toEqual(refused[0]!.body['text']);

    // Meta redelivers the same message: the reply went out, so nothing is sent and nothing is queued.
    expect((await post(delivery('wamid.bot1', 'where is my order?'))).status).toBe(200);
    expect(sentTo()).toHaveLength(1);
    expect(await jobs.claim('w1', ['chatbot.deliver'], 60_000)).toBeNull();
  });

  it('a webhook redelivered after the reply was lost (a crash before sending) sends that reply, once', async () => {
    const before = sentTo().length;
    // The first delivery's reply is stored but never sent, as when the process dies between the two.
    graph.control.failNext = 1;
    const raw = delivery('wamid.bot2', 'I want to return an item');
    expect((await post(raw)).status).toBe(200);
    const jobs = candor.stores.jobs;
    const queued = (await jobs.claim('w1', ['chatbot.deliver'], 60_000))!;
    await jobs.complete(queued.id, 'w1'); // the outbox's copy is lost with the process
    expect(sentTo()).toHaveLength(before);

    expect((await post(raw)).status).toBe(200);
    expect(sentTo()).toHaveLength(before + 1);
    expect((await post(raw)).status).toBe(200);
    expect(sentTo()).toHaveLength(before + 1);
  });
});
