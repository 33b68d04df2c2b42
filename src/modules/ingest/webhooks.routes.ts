/**
 * `POST /v1/webhooks/shopify/orders` and `/v1/webhooks/woocommerce/orders` (signed by the platform), and
 * `POST /v1/sources/{id}/webhooks` (staff `sources:admin`) to register a platform's webhook secret.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router } from '../../kernel/http.ts';
import type { IngestService } from './ingest.service.ts';
import {
  isOrderTopic,
  orderMessageOf,
  SIGNATURE_HEADER,
  TOPIC_HEADER,
  WEBHOOK_PLATFORMS,
  type WebhookOrders,
  type WebhookService,
} from './webhooks.service.ts';

/** Order payloads are far smaller; this bounds what is read before the signature is checked. */
export const MAX_WEBHOOK_BYTES = 512 * 1024;

const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

async function rawBody(c: Context<AppEnv>): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_WEBHOOK_BYTES)
    throw new AppError('payload_too_large', `A webhook body holds at most ${MAX_WEBHOOK_BYTES} bytes.`);
  const body = Buffer.from(await c.req.arrayBuffer());
  if (body.length > MAX_WEBHOOK_BYTES)
    throw new AppError('payload_too_large', `A webhook body holds at most ${MAX_WEBHOOK_BYTES} bytes.`);
  return body;
}

export function webhookRoutes(
  router: Router,
  deps: {
    webhooks: WebhookService;
    ingest: IngestService;
    guards: Guards;
    orders?: WebhookOrders | undefined;
  },
): void {
  for (const platform of WEBHOOK_PLATFORMS) {
    const header = SIGNATURE_HEADER[platform];
    const route = createRoute({
      method: 'post',
      path: `/v1/webhooks/${platform}/orders`,
      tags: ['webhooks'],
      summary: `${platform === 'shopify' ? 'Shopify' : 'WooCommerce'} order webhook → order_completed`,
      description: `Signed with the source's webhook secret: \`${header}\` = base64 HMAC-SHA256 of the raw body. Idempotent on the platform's order id. Order topics (\`${TOPIC_HEADER[platform]}\`: ${platform === 'shopify' ? 'orders/create, orders/updated, orders/paid, orders/fulfilled, orders/cancelled, fulfillments/create|update, refunds/create' : 'order.created, order.updated'}) also update the order record.`,
      request: {
        body: {
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
          required: true,
        },
      },
      responses: {
        200: {
          description: 'Order accepted (or already stored, or not an order)',
          content: {
            'application/json': {
              schema: z.object({
                success: z.literal(true),
                accepted: z.number().int(),
                quarantined: z.number().int(),
              }),
            },
          },
        },
        400: err('The body is not an order payload'),
        401: err('Missing or wrong signature'),
        413: err('Body too large'),
      },
    });
    router.openAPIRegistry.registerPath(route);
    router.post(route.path, async (c: Context<AppEnv>) => {
      const signature = c.req.header(header);
      if (!signature)
        throw new AppError('unauthorized', `Send the ${header} header (base64 HMAC-SHA256 of the body).`);
      const body = await rawBody(c);
      const source = await deps.webhooks.verify(platform, body, signature);
      if (source === null)
        throw new AppError(
          'unauthorized',
          `The ${header} signature does not match any ${platform} webhook secret. Check the secret registered with POST /v1/sources/{id}/webhooks.`,
        );
      c.set('principal', { kind: 'source', sourceId: source.sourceId });
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        // WooCommerce's delivery test posts `webhook_id=N` as a form: signed, but no order.
        return c.json({ success: true as const, accepted: 0, quarantined: 0 }, 200);
      }
      const topic = c.req.header(TOPIC_HEADER[platform]) ?? null;
      // The order record first: a failure answers 5xx, so the platform redelivers and nothing is lost.
      if (deps.orders) await deps.orders.fromPlatform(platform, topic, payload, source.sourceId);
      if (!isOrderTopic(platform, topic))
        return c.json({ success: true as const, accepted: 0, quarantined: 0 }, 200);
      const message = orderMessageOf(platform, payload);
      if (message === null)
        throw new AppError(
          'invalid_request',
          'The body is not an order: it needs an `id` (send the orders/create or order.created topic).',
        );
      const outcome = await deps.ingest.ingest({
        sourceId: source.sourceId,
        messages: [message],
        gpc: false,
      });
      return c.json(
        { success: true as const, accepted: outcome.accepted, quarantined: outcome.quarantined },
        200,
      );
    });
  }

  const createSecret = createRoute({
    method: 'post',
    path: '/v1/sources/{id}/webhooks',
    tags: ['sources'],
    summary: 'Register a Shopify or WooCommerce webhook secret for a source (shown once).',
    middleware: [deps.guards.staff('sources:admin')] as const,
    request: {
      params: z.object({ id: z.string().min(1).max(128) }),
      body: {
        content: {
          'application/json': {
            schema: z
              .object({ platform: z.enum(WEBHOOK_PLATFORMS), secret: z.string().min(16).max(512).optional() })
              .strict(),
          },
        },
        required: true,
      },
    },
    responses: {
      201: {
        description: 'Registered',
        content: {
          'application/json': {
            schema: z.object({ webhookId: z.string(), secret: z.string(), path: z.string() }),
          },
        },
      },
      400: err('Invalid'),
      403: err('Not allowed'),
    },
  });
  router.openapi(createSecret, async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const principal = c.get('principal');
    const actor = principal?.kind === 'staff' ? `staff:${principal.staffId}` : 'staff';
    return c.json(
      await deps.webhooks.createSecret({
        sourceId: id,
        platform: input.platform,
        secret: input.secret,
        actor,
      }),
      201,
    );
  });
}
