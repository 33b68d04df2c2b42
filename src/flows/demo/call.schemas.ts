/**
 * zod schemas mirroring the HTTP APIs the demo's calls are meant for (`POST /v1/consent`, the Segment-spec
 * `POST /v1/track | /v1/page | /v1/identify`, and orders as a server-side track). Tests parse every
 * generated call with them, so the demo cannot drift from what the endpoints accept.
 */
import { z } from 'zod';

const nonEmpty = z.string().min(1).max(200);
const isoTime = z.iso.datetime();

export const PurposesSchema = z
  .object({
    analytics: z.boolean(),
    personalization: z.boolean(),
    marketing_email: z.boolean(),
    marketing_push: z.boolean(),
    advertising: z.boolean(),
    sale: z.boolean(),
  })
  .strict();

export const ConsentBodySchema = z
  .object({
    anonymousId: nonEmpty,
    userId: nonEmpty.optional(),
    purposes: PurposesSchema,
    noticeVersion: nonEmpty,
    method: z.enum(['banner', 'gpc', 'api']),
    locale: z.string().regex(/^[a-z]{2}-[A-Z]{2}$/),
    gpc: z.boolean().optional(),
  })
  .strict();

/** Documentation ranges only (RFC 5737, RFC 3849): the demo must never name a real host. */
const documentationIp = z
  .string()
  .refine((ip) => /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(ip) || ip.startsWith('2001:db8:'), {
    message: 'must be from a documentation address range',
  });

export const ContextSchema = z
  .object({
    page: z
      .object({ path: z.string().startsWith('/'), url: z.url(), referrer: z.string(), title: z.string() })
      .strict(),
    userAgent: z.string().min(10),
    locale: z.string().regex(/^[a-z]{2}-[A-Z]{2}$/),
    ip: documentationIp,
    campaign: z.object({ source: nonEmpty, medium: nonEmpty, name: nonEmpty }).strict().optional(),
    sessionId: nonEmpty,
  })
  .strict();

const base = {
  messageId: z.uuid(),
  anonymousId: z.uuid(),
  userId: nonEmpty.optional(),
  timestamp: isoTime,
};

const productId = z.string().regex(/^p\d{6}$/);
const money = z.number().int().min(0);
const item = z
  .object({ product_id: productId, quantity: z.number().int().min(1), price: money, category: nonEmpty })
  .strict();

/** Properties per event of our vocabulary (DESIGN §5). */
export const TRACK_PROPERTIES = {
  product_view: z
    .object({ product_id: productId, category: nonEmpty, price: money, currency: z.literal('IDR') })
    .strict(),
  product_list_view: z
    .object({
      list_id: nonEmpty,
      category: nonEmpty,
      products: z.array(z.object({ product_id: productId, position: z.number().int().min(1) }).strict()),
    })
    .strict(),
  search: z.object({ query: z.string().min(1).max(200), results_count: z.number().int().min(0) }).strict(),
  search_click: z
    .object({ query: z.string().min(1).max(200), product_id: productId, position: z.number().int().min(1) })
    .strict(),
  add_to_cart: z
    .object({
      cart_id: nonEmpty,
      product_id: productId,
      price: money,
      currency: z.literal('IDR'),
      quantity: z.number().int().min(1),
    })
    .strict(),
  remove_from_cart: z
    .object({
      cart_id: nonEmpty,
      product_id: productId,
      price: money,
      currency: z.literal('IDR'),
      quantity: z.number().int().min(1),
    })
    .strict(),
  checkout_started: z
    .object({ cart_id: nonEmpty, products: z.array(item).min(1), revenue: money, currency: z.literal('IDR') })
    .strict(),
  review_submitted: z
    .object({
      product_id: productId,
      order_id: nonEmpty,
      rating: z.number().int().min(1).max(5),
      text: z.string().min(1).max(2000),
    })
    .strict(),
  product_shared: z.object({ product_id: productId, share_via: nonEmpty }).strict(),
  page_leave: z
    .object({
      path: z.string().startsWith('/'),
      engaged_ms: z.number().int().min(0),
      scroll_depth: z.number().int().min(0).max(100),
    })
    .strict(),
} as const;

export const TrackBodySchema = z
  .object({ ...base, event: nonEmpty, properties: z.record(z.string(), z.unknown()), context: ContextSchema })
  .strict()
  .superRefine((body, ctx) => {
    const schema = (TRACK_PROPERTIES as Record<string, z.ZodType | undefined>)[body.event];
    if (!schema) {
      ctx.addIssue({
        code: 'custom',
        path: ['event'],
        message: `not an event of the vocabulary: ${body.event}`,
      });
      return;
    }
    const parsed = schema.safeParse(body.properties);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({
          code: 'custom',
          path: ['properties', ...issue.path.map(String)],
          message: issue.message,
        });
      }
    }
  });

export const PageBodySchema = z
  .object({
    ...base,
    name: z.string(),
    properties: z
      .object({ path: z.string().startsWith('/'), url: z.url(), referrer: z.string(), title: z.string() })
      .strict(),
    context: ContextSchema,
  })
  .strict();

export const IdentifyBodySchema = z
  .object({
    ...base,
    userId: nonEmpty,
    traits: z
      .object({
        email: z.email().endsWith('@example.test'),
        phone: z.string().regex(/^\+62 800-\d{7}$/),
        name: nonEmpty,
        firstName: nonEmpty,
        lastName: nonEmpty,
        address: z
          .object({
            street: nonEmpty,
            city: nonEmpty,
            postalCode: z.string().regex(/^\d{5}$/),
            country: z.literal('ID'),
          })
          .strict(),
      })
      .strict(),
    context: ContextSchema,
  })
  .strict();

export const OrderBodySchema = z
  .object({
    ...base,
    event: z.literal('order_completed'),
    properties: z
      .object({
        order_id: nonEmpty,
        cart_id: nonEmpty,
        products: z.array(item).min(1),
        revenue: money,
        currency: z.literal('IDR'),
      })
      .strict()
      .refine(
        (p) => p.revenue === p.products.reduce((sum, it) => sum + it.price * it.quantity, 0),
        'revenue must equal the sum of its items',
      ),
  })
  .strict();

export const DemoCallSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('consent'), at: z.number().int(), body: ConsentBodySchema }).strict(),
  z.object({ kind: z.literal('track'), at: z.number().int(), body: TrackBodySchema }).strict(),
  z.object({ kind: z.literal('page'), at: z.number().int(), body: PageBodySchema }).strict(),
  z.object({ kind: z.literal('identify'), at: z.number().int(), body: IdentifyBodySchema }).strict(),
  z.object({ kind: z.literal('order'), at: z.number().int(), body: OrderBodySchema }).strict(),
]);
