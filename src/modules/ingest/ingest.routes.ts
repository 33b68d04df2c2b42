/**
 * Tracking endpoints compatible with Segment's HTTP tracking API (`/v1/track`, `/v1/page`,
 * `/v1/identify`, `/v1/alias`, `/v1/batch`), the native batch `/v1/events`, and the staff view of the
 * quarantine. Tracking bodies are parsed by hand (JSON in text/plain too) so every malformed request
 * gets a precise 4xx; the zod schemas below describe them in /openapi.json.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router } from '../../kernel/http.ts';
import type { IngestRequest, IngestService } from './ingest.service.ts';
import { badWriteKey, missingWriteKey, readTrackingBody, writeKeyOf } from '../../kernel/tracking-body.ts';

export const MAX_BATCH_EVENTS = 500;
export const MAX_BATCH_BYTES = 512 * 1024;

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');

const MessageDoc = z
  .object({
    type: z.string().optional().openapi({
      description: 'track | page | screen | identify | alias (batch), or a Candor event type (native)',
    }),
    event: z
      .string()
      .optional()
      .openapi({ description: "Segment e-commerce name (e.g. 'Product Viewed') or a Candor event type" }),
    name: z.string().optional(),
    messageId: z
      .string()
      .optional()
      .openapi({ description: 'Idempotency key: a message is stored once per source.' }),
    userId: z.string().optional(),
    anonymousId: z.string().optional(),
    previousId: z.string().optional(),
    timestamp: z.string().optional(),
    sentAt: z.string().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
    traits: z.record(z.string(), z.unknown()).optional(),
    context: z.record(z.string(), z.unknown()).optional(),
    writeKey: z.string().optional(),
  })
  .openapi('TrackingMessage');

const BatchDoc = z
  .object({
    batch: z.array(MessageDoc).max(MAX_BATCH_EVENTS),
    context: z.record(z.string(), z.unknown()).optional(),
    sentAt: z.string().optional(),
    writeKey: z.string().optional(),
  })
  .openapi('TrackingBatch');

const EventsDoc = z
  .object({ events: z.array(MessageDoc).max(MAX_BATCH_EVENTS), writeKey: z.string().optional() })
  .openapi('NativeEventBatch');

const IngestResponse = z
  .object({
    success: z.literal(true),
    accepted: z.number().int(),
    dropped: z.number().int(),
    quarantined: z.number().int(),
  })
  .openapi('IngestResponse');

function trackingRoute(path: string, summary: string, schema: z.ZodType) {
  return createRoute({
    method: 'post',
    path,
    tags: ['tracking'],
    summary,
    description:
      'Write key as HTTP Basic user or `writeKey` in the body. JSON as application/json or text/plain. The response is sent only after accepted events are durably stored. `Sec-GPC: 1` records an opt-out of advertising and sale.',
    request: { body: { content: { 'application/json': { schema } }, required: true } },
    responses: {
      200: {
        description: 'Stored, dropped (no consent) and quarantined counts',
        content: { 'application/json': { schema: IngestResponse } },
      },
      400: {
        description: 'Malformed request, or no event in it was valid',
        content: { 'application/json': { schema: ErrorSchema } },
      },
      401: {
        description: 'Missing or unknown write key',
        content: { 'application/json': { schema: ErrorSchema } },
      },
      413: {
        description: 'Body over 512 KB or more than 500 events',
        content: { 'application/json': { schema: ErrorSchema } },
      },
    },
  });
}

const quarantineRoute = createRoute({
  method: 'get',
  path: '/v1/ingest/quarantine',
  tags: ['tracking'],
  summary:
    'What the shop’s tags send wrong: quarantine and drop counts per source and reason (staff, ingest:read).',
  request: {
    query: z.object({
      sourceId: z.string().max(128).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: {
      description: 'Counts and the most recent quarantined events (no content, no personal data)',
      content: {
        'application/json': {
          schema: z.object({
            quarantined: z.array(
              z.object({ sourceId: z.string(), reason: z.string(), count: z.number(), lastAt: z.number() }),
            ),
            dropped: z.array(
              z.object({ sourceId: z.string(), reason: z.string(), count: z.number(), lastAt: z.number() }),
            ),
            recent: z.array(
              z.object({
                id: z.string(),
                sourceId: z.string(),
                reason: z.string(),
                eventType: z.string(),
                detail: z.string().nullable(),
                sizeBytes: z.number(),
                receivedAt: z.number(),
              }),
            ),
          }),
        },
      },
    },
  },
});

type Kind = 'track' | 'page' | 'identify' | 'alias' | 'batch' | 'events';

const ROUTES: { path: string; kind: Kind; summary: string; schema: z.ZodType }[] = [
  { path: '/v1/track', kind: 'track', summary: 'Segment track: one event', schema: MessageDoc },
  { path: '/v1/page', kind: 'page', summary: 'Segment page: one page view', schema: MessageDoc },
  {
    path: '/v1/identify',
    kind: 'identify',
    summary: 'Segment identify: traits go to the PII vault, never into events',
    schema: MessageDoc,
  },
  {
    path: '/v1/alias',
    kind: 'alias',
    summary: 'Segment alias: link previousId to userId',
    schema: MessageDoc,
  },
  { path: '/v1/batch', kind: 'batch', summary: 'Segment batch: up to 500 messages', schema: BatchDoc },
  { path: '/v1/events', kind: 'events', summary: 'Native batch of Candor events', schema: EventsDoc },
];

function messagesOf(kind: Kind, body: Record<string, unknown>): unknown[] {
  if (kind === 'batch' || kind === 'events') {
    const field = kind === 'batch' ? 'batch' : 'events';
    const list = Object.hasOwn(body, field) ? body[field] : undefined;
    if (!Array.isArray(list)) {
      throw new AppError('invalid_request', `Send the events as an array in \`${field}\`.`);
    }
    if (list.length === 0)
      throw new AppError('invalid_request', `\`${field}\` is empty: send at least one event.`);
    if (list.length > MAX_BATCH_EVENTS) {
      throw new AppError(
        'payload_too_large',
        `A batch holds at most ${MAX_BATCH_EVENTS} events; this one has ${list.length}. Split it.`,
      );
    }
    return list;
  }
  // The endpoint names the call type (the Segment HTTP API ignores a conflicting `type` field).
  return [{ ...body, type: kind }];
}

function summarise(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .map(([r, n]) => `${r} (${n})`)
    .join(', ');
}

/** Reads, authenticates and unpacks one tracking request. */
async function trackingRequest(
  c: Context<AppEnv>,
  kind: Kind,
  service: IngestService,
): Promise<IngestRequest> {
  const body = await readTrackingBody(c, MAX_BATCH_BYTES);
  const key = writeKeyOf(c, body);
  if (key === null) throw missingWriteKey();
  const source = await service.authenticateWriteKey(key);
  if (source === null) throw badWriteKey();
  c.set('principal', { kind: 'source', sourceId: source.sourceId });
  return {
    sourceId: source.sourceId,
    messages: messagesOf(kind, body),
    sentAt: kind === 'batch' && Object.hasOwn(body, 'sentAt') ? body.sentAt : undefined,
    context: kind === 'batch' && Object.hasOwn(body, 'context') ? body.context : undefined,
    gpc: c.req.header('sec-gpc')?.trim() === '1',
  };
}

export function ingestRoutes(router: Router, service: IngestService, guards: Guards): void {
  const corsMiddleware = cors({
    origin: '*',
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Authorization'],
    maxAge: 86_400,
    credentials: false,
  });

  for (const r of ROUTES) {
    router.openAPIRegistry.registerPath(trackingRoute(r.path, r.summary, r.schema));
    router.use(r.path, corsMiddleware);
    router.options(r.path, (c) => c.body(null, 204));
    router.post(r.path, async (c: Context<AppEnv>) => {
      // The parsed body lives only in trackingRequest and ingest's pipeline, not in this frame, which
      // waits for the group commit (see IngestService.ingest).
      const outcome = await service.ingest(await trackingRequest(c, r.kind, service));
      if (outcome.accepted === 0 && outcome.dropped === 0 && outcome.quarantined > 0) {
        throw new AppError(
          'invalid_request',
          `No event in this request was valid: ${summarise(outcome.reasons)}. Fix the events; GET /v1/ingest/quarantine shows the counts per reason.`,
          { details: { quarantined: outcome.quarantined, reasons: outcome.reasons } },
        );
      }
      return c.json(
        {
          success: true as const,
          accepted: outcome.accepted,
          dropped: outcome.dropped,
          quarantined: outcome.quarantined,
        },
        200,
      );
    });
  }

  router.use(quarantineRoute.path, guards.staff('ingest:read'));
  router.openapi(quarantineRoute, async (c) => {
    const q = c.req.valid('query');
    const stats = await service.stats(
      q.sourceId === undefined ? { limit: q.limit } : { sourceId: q.sourceId, limit: q.limit },
    );
    return c.json(stats, 200);
  });
}
