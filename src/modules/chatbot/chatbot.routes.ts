/**
 * Chat HTTP API: the REST channel for apps and the web widget (write key, or a shopper token for a
 * signed-in shopper), the agent API (`chat:agent`) and aggregate analytics (`chatbot:admin`).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Principal, Router } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  handshake,
  parseInstagram,
  parseWhatsApp,
  threadIdOf,
  verifySignature,
  type ChannelConfig,
  type MessagingChannel,
} from './channels.ts';
import type { ChatbotService } from './chatbot.service.ts';

/** The auth module's token-bucket middleware factory, as the composition root hands it over. */
export type ChatRateLimit = (options: {
  name: string;
  capacity: number;
  refillPerSec: number;
  key(c: Context<AppEnv>): string | null;
}) => MiddlewareHandler<AppEnv>;

export type ChatRouteDeps = {
  service: ChatbotService;
  guards: Guards;
  logger: Logger;
  rateLimit?: ChatRateLimit | undefined;
  /** A pseudonym of the caller's IP (never the IP itself), for per-client buckets. */
  clientKey?: ((c: Context<AppEnv>) => string) | undefined;
  channels?: Partial<Record<MessagingChannel, ChannelConfig>> | undefined;
};

/** Per client: a person types a few messages a minute; a script hammering the bot gets 429 + Retry-After. */
export const CHAT_RATE = { capacity: 30, refillPerSec: 30 / 60 } as const;
/** Per messaging channel: Meta batches deliveries, so this bounds the whole channel, not one sender. */
export const CHANNEL_RATE = { capacity: 600, refillPerSec: 20 } as const;

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');
const err = (d: string) => ({ description: d, content: { 'application/json': { schema: ErrorSchema } } });
const errors = {
  400: err('Invalid input'),
  401: err('Not authenticated'),
  403: err('Not allowed'),
  404: err('Unknown conversation'),
} as const;

const MessageBody = z
  .object({
    conversationId: z.string().min(1).max(80).optional(),
    text: z.string().trim().min(1, 'text must not be empty').max(2000, 'text is limited to 2000 characters'),
    clientMessageId: z.string().min(1).max(80).optional().openapi({
      description: 'Idempotency key: a retry with the same key changes nothing and returns the same replies.',
    }),
  })
  .strict()
  .openapi('ChatMessageInput');

const Reply = z.object({
  text: z.string(),
  source: z.object({ title: z.string(), url: z.string() }).optional(),
  messageId: z
    .string()
    .optional()
    .openapi({ description: 'The stored message (as the transcript lists it).' }),
});
const MessageResult = z
  .object({
    conversationId: z.string(),
    state: z.enum(['bot', 'pending', 'agent', 'resolved']),
    lang: z.string(),
    intent: z.string().nullable(),
    confidence: z.number(),
    candidates: z.array(z.object({ intent: z.string(), confidence: z.number() })),
    entities: z.array(z.record(z.string(), z.unknown())),
    replies: z.array(Reply),
    handedOff: z.boolean(),
    replayed: z.boolean().optional().openapi({
      description: 'True when clientMessageId repeated an earlier message: nothing changed, same replies.',
    }),
  })
  .openapi('ChatMessageResult');
const Transcript = z
  .object({
    conversationId: z.string(),
    state: z.string(),
    handoffReason: z.string().nullable(),
    orderId: z.string().nullable().openapi({ description: 'The verified order the conversation is about.' }),
    messages: z.array(z.object({ role: z.string(), text: z.string(), at: z.string() })),
  })
  .openapi('ChatTranscript');
const IdParam = z.object({ id: z.string().min(1).max(80) });
const State = z.object({ state: z.string() }).passthrough();

function subjectOf(p: Principal | undefined): string | null {
  return p?.kind === 'shopper' ? p.subjectId : null;
}
function staffIdOf(p: Principal | undefined): string {
  if (p?.kind === 'staff') return p.staffId;
  if (p?.kind === 'server_key') return `key:${p.keyId}`;
  throw new AppError('unauthorized', 'Sign in as staff to answer conversations.');
}
const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({
  200: { description, content: { 'application/json': { schema } } },
});

function principalKey(p: Principal | undefined): string | null {
  if (p?.kind === 'shopper') return `shopper:${p.subjectId}`;
  if (p?.kind === 'source') return `source:${p.sourceId}`;
  return null;
}

export function mountChatbotRoutes(router: Router, deps: ChatRouteDeps): void {
  const { service, guards } = deps;
  const agent = guards.staff('chat:agent');
  const pass: MiddlewareHandler<AppEnv> = async (_c, next) => next();
  // Runs after the guard, so the bucket is the signed-in shopper, or the IP pseudonym within a write key.
  const chatLimit: MiddlewareHandler<AppEnv> = deps.rateLimit
    ? deps.rateLimit({
        name: 'chat.client',
        ...CHAT_RATE,
        key: (c) => {
          const who = principalKey(c.get('principal'));
          const p = c.get('principal');
          if (p?.kind === 'shopper') return who;
          return deps.clientKey ? `${who ?? 'anon'}:${deps.clientKey(c)}` : who;
        },
      })
    : pass;
  // The web widget runs on the shop's own pages: the write-key routes answer any origin, without cookies.
  const widgetCors = cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Authorization'],
    maxAge: 86_400,
    credentials: false,
  });
  for (const p of ['/v1/chat/messages', '/v1/chat/conversations/:id', '/v1/chat/conversations/:id/csat']) {
    router.use(p, widgetCors);
    router.options(p, (c) => c.body(null, 204));
  }

  for (const [path, guard, channel] of [
    ['/v1/chat/messages', guards.writeKey, 'rest'],
    ['/v1/me/chat/messages', guards.shopper, 'rest'],
  ] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path,
        tags: ['chat'],
        summary: path.startsWith('/v1/me')
          ? 'Send a message as the signed-in shopper (shopper token).'
          : 'Send a message to the shop assistant (write key).',
        middleware: [guard, chatLimit] as const,
        request: { body: { required: true, content: { 'application/json': { schema: MessageBody } } } },
        responses: {
          ...json(MessageResult, 'The bot replies (none while a person owns the conversation)'),
          ...errors,
          429: err('Too many messages; wait for Retry-After seconds'),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const result = await service.handleMessage({
          ...body,
          subjectId: subjectOf(c.get('principal')),
          channel,
        });
        return c.json(result, 200);
      },
    );
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/chat/conversations/{id}',
      tags: ['chat'],
      summary: 'The (redacted) transcript of an anonymous conversation.',
      middleware: [guards.writeKey] as const,
      request: { params: IdParam },
      responses: { ...json(Transcript), ...errors },
    }),
    async (c) => c.json(await service.transcript(c.req.valid('param').id, null), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/chat/conversations/{id}/csat',
      tags: ['chat'],
      summary: 'Thumbs up or down for a conversation.',
      middleware: [guards.writeKey, chatLimit] as const,
      request: {
        params: IdParam,
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ up: z.boolean() }).strict() } },
        },
      },
      responses: { ...json(z.object({ ok: z.boolean() })), ...errors },
    }),
    async (c) => c.json(await service.rate(c.req.valid('param').id, null, c.req.valid('json').up), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/chat/inbox',
      tags: ['chat agents'],
      summary: 'Conversations waiting for or owned by a person, oldest first.',
      middleware: [agent] as const,
      responses: {
        ...json(
          z.object({
            conversations: z.array(
              z.object({
                id: z.string(),
                state: z.string(),
                lang: z.string(),
                channel: z.string(),
                handoffReason: z.string().nullable(),
                orderId: z.string().nullable(),
                agentId: z.string().nullable(),
                updatedAt: z.string(),
              }),
            ),
          }),
        ),
        ...errors,
      },
    }),
    async (c) => {
      const rows = await service.inbox();
      return c.json(
        {
          conversations: rows.map((r) => ({
            id: r.id,
            state: r.state,
            lang: r.lang,
            channel: r.channel,
            handoffReason: r.handoff_reason,
            orderId: r.order_id,
            agentId: r.agent_id,
            updatedAt: new Date(Number(r.updated_at)).toISOString(),
          })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/chat/conversations/{id}/transcript',
      tags: ['chat agents'],
      summary: 'A conversation transcript for the agent handling it.',
      middleware: [agent] as const,
      request: { params: IdParam },
      responses: { ...json(Transcript), ...errors },
    }),
    async (c) => c.json(await service.transcript(c.req.valid('param').id, null, true), 200),
  );

  for (const action of ['claim', 'resolve'] as const)
    router.openapi(
      createRoute({
        method: 'post',
        path: `/v1/chat/conversations/{id}/${action}`,
        tags: ['chat agents'],
        summary:
          action === 'claim' ? 'Take over a conversation (the bot stops replying).' : 'Close a conversation.',
        middleware: [agent] as const,
        request: { params: IdParam },
        responses: { ...json(State), ...errors, 409: err('Owned by another agent') },
      }),
      async (c) => {
        const id = c.req.valid('param').id;
        return c.json(
          action === 'claim'
            ? await service.claim(id, staffIdOf(c.get('principal')))
            : await service.resolve(id),
          200,
        );
      },
    );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/chat/conversations/{id}/agent-messages',
      tags: ['chat agents'],
      summary:
        'Reply to the shopper as an agent (claims the conversation if it is pending); on WhatsApp and Instagram the reply is also sent there.',
      middleware: [agent] as const,
      request: {
        params: IdParam,
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ text: z.string().trim().min(1).max(4000) }).strict() },
          },
        },
      },
      responses: {
        ...json(
          z.object({
            state: z.string(),
            messageId: z.string(),
            delivery: z.enum(['transcript', 'queued', 'unavailable']).openapi({
              description:
                'transcript: web/REST shoppers read it there; queued: being sent to WhatsApp/Instagram (retried); unavailable: the channel is not configured.',
            }),
          }),
        ),
        ...errors,
        409: err('Owned by another agent'),
      },
    }),
    async (c) =>
      c.json(
        await service.agentReply(
          c.req.valid('param').id,
          staffIdOf(c.get('principal')),
          c.req.valid('json').text,
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/chat/analytics',
      tags: ['chat agents'],
      summary: 'Conversation aggregates: volume, intents, containment, hand-offs, CSAT, FAQ gaps.',
      middleware: [guards.staff('chatbot:admin')] as const,
      request: { query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }) },
      responses: { ...json(z.record(z.string(), z.unknown())), ...errors },
    }),
    async (c) => c.json(await service.analytics(c.req.valid('query').days), 200),
  );

  mountChannelRoutes(router, deps);
}

const Handshake = z.object({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  'hub.challenge': z.string().max(200).optional(),
});
const CHANNEL_TITLES: Record<MessagingChannel, string> = { whatsapp: 'WhatsApp', instagram: 'Instagram' };

/** WhatsApp Cloud API and Instagram Messaging webhooks: handshake, signed deliveries, replies via the Graph API. */
function mountChannelRoutes(router: Router, deps: ChatRouteDeps): void {
  const { service } = deps;
  for (const channel of ['whatsapp', 'instagram'] as const) {
    const path = `/v1/chat/channels/${channel}/webhook`;
    const title = CHANNEL_TITLES[channel];
    const configured = (): ChannelConfig => {
      const config = deps.channels?.[channel];
      if (!config)
        throw new AppError(
          'not_found',
          `The ${title} channel is not configured: set its verify token, app secret and access token in the chatbot configuration.`,
        );
      return config;
    };
    const limit: MiddlewareHandler<AppEnv> = deps.rateLimit
      ? deps.rateLimit({ name: `chat.${channel}`, ...CHANNEL_RATE, key: () => channel })
      : async (_c, next) => next();
    // Before the body validator: the signature covers the exact bytes sent, so it is checked on them (Hono
    // caches the text, and the validator then parses that same text) before anything trusts the body.
    const signed: MiddlewareHandler<AppEnv> = async (c, next) => {
      const config = configured();
      const raw = await c.req.text();
      if (!verifySignature(raw, c.req.header('x-hub-signature-256'), config.appSecret))
        throw new AppError(
          'unauthorized',
          'X-Hub-Signature-256 does not match the body: sign the raw body with the app secret (HMAC-SHA256).',
        );
      await next();
    };

    router.openapi(
      createRoute({
        method: 'get',
        path,
        tags: ['chat channels'],
        summary: `${title} webhook verification (echoes hub.challenge when hub.verify_token matches).`,
        request: { query: Handshake },
        responses: {
          200: { description: 'The challenge', content: { 'text/plain': { schema: z.string() } } },
          403: err('Wrong verify token'),
          404: err('Channel not configured'),
        },
      }),
      (c) => {
        const config = configured();
        const challenge = handshake(c.req.valid('query'), config.verifyToken);
        if (challenge === null)
          throw new AppError(
            'forbidden',
            'The verify token does not match: use the token set in the chatbot configuration.',
          );
        return c.text(challenge, 200);
      },
    );

    router.openapi(
      createRoute({
        method: 'post',
        path,
        tags: ['chat channels'],
        summary: `${title} webhook deliveries (signed with X-Hub-Signature-256).`,
        middleware: [limit, signed] as const,
        request: {
          headers: z.object({ 'x-hub-signature-256': z.string().optional() }),
          body: {
            required: true,
            content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
          },
        },
        responses: {
          ...json(z.object({ received: z.number().int() }), 'Messages taken'),
          400: err('Not JSON'),
          401: err('Bad signature'),
          404: err('Channel not configured'),
          429: err('Too many deliveries'),
        },
      }),
      async (c) => {
        const config = configured();
        const payload = c.req.valid('json');
        const messages = channel === 'whatsapp' ? parseWhatsApp(payload) : parseInstagram(payload);
        for (const m of messages) {
          const result = await service.handleMessage({
            text: m.text.slice(0, 2000),
            threadId: threadIdOf(m, config.appSecret),
            // Meta redelivers until it sees a 200: the message id makes a redelivery change nothing.
            clientMessageId: `${channel}:${m.messageId}`.slice(0, 200),
            subjectId: null,
            channel,
            // Kept sealed on the conversation, so an agent's later reply can reach the sender.
            address: { from: m.from, to: m.to },
          });
          // Sent now, or queued and retried when the Graph API fails; a redelivery (replayed) sends only
          // what was not delivered the first time, so the shopper sees no repeats.
          await service.deliverReplies(
            result.replies.flatMap((r) => (r.messageId ? [r.messageId] : [])),
            m,
          );
        }
        return c.json({ received: messages.length }, 200);
      },
    );
  }
}
