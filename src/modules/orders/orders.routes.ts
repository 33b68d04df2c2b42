/**
 * Orders HTTP API: staff (`orders:read`) see orders without anything that points to the person (no
 * pseudonym, no e-mail hash, no tracking number); a signed-in shopper sees their own orders in full.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../kernel/errors.ts';
import type { Guards, Router } from '../../kernel/http.ts';
import type { OrdersService } from './orders.service.ts';
import { ORDER_SOURCES, ORDER_STATUSES } from './store.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

const Item = z.object({ productId: z.string(), quantity: z.number(), price: z.number() });
const StaffOrder = z
  .object({
    orderId: z.string(),
    number: z.string(),
    status: z.enum(ORDER_STATUSES),
    carrier: z.string().nullable(),
    hasTracking: z.boolean(),
    items: z.array(Item),
    total: z.number(),
    refunded: z.number(),
    currency: z.string(),
    placedAt: z.string(),
    updatedAt: z.string(),
    source: z.enum(ORDER_SOURCES),
    deidentified: z.boolean().openapi({
      description: 'Kept for tax after the shopper’s erasure, with no link to them.',
    }),
  })
  .openapi('StaffOrder');
const ShopperOrder = z
  .object({
    orderId: z.string(),
    number: z.string(),
    status: z.enum(ORDER_STATUSES),
    carrier: z.string().nullable(),
    trackingNumber: z.string().nullable(),
    trackingUrl: z.string().nullable(),
    items: z.array(Item),
    total: z.number(),
    refunded: z.number(),
    currency: z.string(),
    placedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ShopperOrder');

export function mountOrdersRoutes(router: Router, deps: { service: OrdersService; guards: Guards }): void {
  const { service, guards } = deps;
  const read = guards.staff('orders:read');

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orders',
      tags: ['orders'],
      summary: 'Orders, newest first (no personal data).',
      middleware: [read] as const,
      request: {
        query: z.object({
          status: z.enum(ORDER_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(400).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of orders',
          content: {
            'application/json': {
              schema: z.object({ orders: z.array(StaffOrder), nextCursor: z.string().nullable() }),
            },
          },
        },
        400: err('Invalid parameters'),
        401: err('Not signed in'),
        403: err('Missing the orders:read permission'),
      },
    }),
    async (c) => c.json(await service.list(c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orders/{id}',
      tags: ['orders'],
      summary: 'One order by the shop’s order id (no personal data).',
      middleware: [read] as const,
      request: { params: z.object({ id: z.string().min(1).max(128) }) },
      responses: {
        200: { description: 'The order', content: { 'application/json': { schema: StaffOrder } } },
        400: err('Invalid id'),
        401: err('Not signed in'),
        403: err('Missing the orders:read permission'),
        404: err('No such order'),
      },
    }),
    async (c) => c.json(await service.get(c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/orders',
      tags: ['orders'],
      summary: 'My orders with their status, carrier and tracking (shopper token).',
      middleware: [guards.shopper] as const,
      responses: {
        200: {
          description: 'My orders, newest first',
          content: { 'application/json': { schema: z.object({ orders: z.array(ShopperOrder) }) } },
        },
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      if (p?.kind !== 'shopper') throw new AppError('unauthorized', 'Send a shopper token.');
      c.header('cache-control', 'no-store');
      return c.json({ orders: await service.forShopper(p.subjectId) }, 200);
    },
  );
}
