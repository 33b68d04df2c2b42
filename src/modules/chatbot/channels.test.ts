import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { AppError, errorBody, isAppError, statusOf } from '../../kernel/errors.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { createMemoryRateLimitStore, createRateLimiter, rateLimit } from '../auth/index.ts';
import { parseInstagram, parseWhatsApp, signBody, verifySignature } from './channels.ts';
import { createChatbotModule } from './chatbot.module.ts';
import { whatsappDelivery } from './channels.testkit.ts';

const SECRET = 'app-secret-for-tests';
const VERIFY = 'verify-me';

type Sent = { url: string; auth: string | undefined; body: Record<string, unknown> };

/** A local stand-in for the Graph API that records every outbound message call. */
async function graphServer(): Promise<{ url: string; sent: Sent[]; close(): Promise<void> }> {
  const sent: Sent[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      sent.push({
        url: req.url ?? '',
        auth: req.headers.authorization,
        body: JSON.parse(raw) as Record<string, unknown>,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messages: [{ id: `wamid.out${sent.length}` }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const instagram = (mid: string, from: string, text: string, echo = false) => ({
  object: 'instagram',
  entry: [
    {
      id: 'IG999',
      time: 1735689600000,
      messaging: [
        {
          sender: { id: from },
          recipient: { id: 'IG999' },
          timestamp: 1735689600000,
          message: { mid, text, ...(echo ? { is_echo: true } : {}) },
        },
      ],
    },
  ],
});

describe('messaging channel formats', () => {
  it('accepts only the exact body signed with the app secret', () => {
    const body = JSON.stringify(whatsappDelivery('wamid.1', '628123', 'hi'));
    expect(verifySignature(body, signBody(body, SECRET), SECRET)).toBe(true);
    expect(verifySignature(`${body} `, signBody(body, SECRET), SECRET)).toBe(false);
    expect(verifySignature(body, signBody(body, 'other'), SECRET)).toBe(false);
    expect(verifySignature(body, undefined, SECRET)).toBe(false);
    expect(verifySignature(body, 'sha256=zz', SECRET)).toBe(false);
  });
  it('maps text messages and skips statuses and echoes', () => {
    expect(parseWhatsApp(whatsappDelivery('wamid.1', '628123', 'where is my order'))).toEqual([
      { channel: 'whatsapp', messageId: 'wamid.1', from: '628123', to: 'PN123', text: 'where is my order' },
    ]);
    const statuses = {
      object: 'whatsapp_business_account',
      entry: [{ changes: [{ value: { metadata: { phone_number_id: 'PN123' }, statuses: [{ id: 'x' }] } }] }],
    };
    expect(parseWhatsApp(statuses)).toEqual([]);
    expect(parseInstagram(instagram('m1', 'IGSID1', 'halo kak'))).toEqual([
      { channel: 'instagram', messageId: 'm1', from: 'IGSID1', to: 'IG999', text: 'halo kak' },
    ]);
    expect(parseInstagram(instagram('m2', 'IG999', 'our own reply', true))).toEqual([]);
    expect(parseInstagram({ object: 'page' })).toEqual([]);
  });
});

describe('chat channels over HTTP (SQLite)', () => {
  const dir = makeTempDir('candor-chat-channels');
  let state: StateStore;
  let graph: Awaited<ReturnType<typeof graphServer>>;
  let app: OpenAPIHono<AppEnv>;

  beforeAll(async () => {
    graph = await graphServer();
    state = await openSqliteStateStore({ file: path.join(dir.path, 'state.sqlite') });
    const clock = fixedClock('2025-01-01T00:00:00Z');
    const anon: Guards['writeKey'] = async (c, next) => {
      c.set('principal', { kind: 'source', sourceId: 'src_test' });
      await next();
    };
    const guards: Guards = { staff: () => anon, shopper: anon, writeKey: anon };
    const limiter = createRateLimiter(createMemoryRateLimitStore(), clock);
    const channel = { verifyToken: VERIFY, appSecret: SECRET, accessToken: 'tok-123', baseUrl: graph.url };
    const chatbot = createChatbotModule(
      {
        state,
        clock,
        logger: silentLogger(),
        guards,
        rateLimit: (o) => rateLimit(limiter, o),
        clientKey: (c) => c.req.header('x-test-client') ?? 'client',
      },
      { channels: { whatsapp: channel, instagram: { ...channel, apiVersion: 'v22.0' } } },
    );
    await state.migrate(chatbot.migrations ?? {});
    app = new OpenAPIHono<AppEnv>({
      defaultHook: (result) => {
        if (!result.success) throw new AppError('invalid_request', `Invalid ${result.target}.`);
      },
    });
    app.use('*', async (c, next) => {
      c.set('requestId', 'req_test_0001');
      await next();
    });
    app.onError((e, c) => {
      const err = isAppError(e)
        ? e
        : e instanceof HTTPException && e.status === 400
          ? new AppError('invalid_json', 'The request body is not valid JSON.')
          : new AppError('internal', 'Something went wrong on our side.');
      if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter));
      return c.json(errorBody(err, 'req_test_0001'), statusOf(err.code) as 400);
    });
    chatbot.routes?.(app);
  });
  afterAll(async () => {
    await state.close();
    await graph.close();
    dir.cleanup();
  });

  const deliver = (channel: string, payload: unknown, signature?: string) => {
    const body = JSON.stringify(payload);
    return app.request(`/v1/chat/channels/${channel}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signature ?? signBody(body, SECRET),
      },
      body,
    });
  };

  it('answers the verify-token handshake only with the right token', async () => {
    const ok = await app.request(
      `/v1/chat/channels/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const bad = await app.request(
      '/v1/chat/channels/instagram/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1',
    );
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/verify token/);
  });

  it('replies to a WhatsApp message through the Graph API, once per delivered message id', async () => {
    const before = graph.sent.length;
    const payload = whatsappDelivery('wamid.A1', '6281234567890', 'where is my order?');
    const res = await deliver('whatsapp', payload);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1 });
    const calls = graph.sent.slice(before);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]!.url).toBe('/v21.0/PN123/messages');
    expect(calls[0]!.auth).toBe('Bearer tok-123');
    expect(calls[0]!.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: '6281234567890',
      type: 'text',
    });
    expect(String((calls[0]!.body['text'] as { body: string }).body)).toMatch(/order number/i);
    // Meta redelivers until it sees a 200: the same message id changes nothing and sends nothing.
    const again = await deliver('whatsapp', payload);
    expect(again.status).toBe(200);
    expect(graph.sent.length).toBe(before + calls.length);
    // The same sender continues the same conversation: the form now asks for the e-mail.
    await deliver('whatsapp', whatsappDelivery('wamid.A2', '6281234567890', 'ORD-12345'));
    const last = graph.sent.at(-1)!;
    expect(String((last.body['text'] as { body: string }).body)).toMatch(/e-mail/i);
    // No phone number is stored as a key or in the transcript.
    const rows = await state.db.selectFrom('chat_conversations').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('6281234567890');
  });

  it('replies to an Instagram message in the shopper’s language', async () => {
    const before = graph.sent.length;
    const res = await deliver('instagram', instagram('mid.B1', 'IGSID77', '我要退貨'));
    expect(res.status).toBe(200);
    const call = graph.sent[before]!;
    expect(call.url).toBe('/v22.0/IG999/messages');
    expect(call.body['recipient']).toEqual({ id: 'IGSID77' });
    expect(String((call.body['message'] as { text: string }).text)).toMatch(/\p{Script=Han}/u);
  });

  it('refuses deliveries with a wrong signature and bodies that are not JSON', async () => {
    const before = graph.sent.length;
    const forged = await deliver(
      'whatsapp',
      whatsappDelivery('wamid.F', '628999', 'hi'),
      'sha256=' + '0'.repeat(64),
    );
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const raw = '{not json';
    const broken = await app.request('/v1/chat/channels/whatsapp/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, SECRET) },
      body: raw,
    });
    expect(broken.status).toBe(400);
    expect(graph.sent.length).toBe(before);
  });

  it('rate-limits one client on the chat route with 429 and Retry-After', async () => {
    const send = (client: string) =>
      app.request('/v1/chat/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-client': client },
        body: JSON.stringify({ text: 'hello' }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await send('busy')).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    const limited = await send('busy');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client behind the same write key is not affected.
    expect((await send('other')).status).toBe(200);
  });
});
