/**
 * Recommendation HTTP API. Serving and feedback take the source's public write key (the shop's page or
 * backend calls them); rules, training and the fairness report need `recommend:admin` staff.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Guards, Router } from '../../kernel/http.ts';
import { SURFACES, type RecommendService } from './recommend.service.ts';

const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});
const errors = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
  401: {
    description: 'Missing or wrong credentials',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;
const id = z.string().min(1).max(256);

const RecommendQuery = z
  .object({
    surface: z.enum(SURFACES),
    userId: id.optional(),
    anonymousId: id.optional(),
    itemId: id.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(10),
    category: id.optional(),
    brand: id.optional(),
    candidates: z
      .string()
      .max(20_000)
      .optional()
      .openapi({ description: 'Comma-separated product ids to re-rank (category page, search results).' }),
  })
  .openapi('RecommendQuery');

const Reason = z.object({ kind: z.string(), en: z.string(), id: z.string(), zh: z.string() });
const RecommendResponse = z
  .object({
    surface: z.enum(SURFACES),
    personalised: z.boolean(),
    modelVersion: z.number().int(),
    items: z.array(z.object({ itemId: z.string(), score: z.number(), reason: Reason })),
  })
  .openapi('Recommendations');

const FeedbackBody = z
  .object({
    userId: id.optional(),
    anonymousId: id.optional(),
    itemId: id.optional(),
    category: id.optional(),
    writeKey: z.string().optional(),
  })
  .refine((b) => b.itemId !== undefined || b.category !== undefined, 'needs itemId or category')
  .refine((b) => b.userId !== undefined || b.anonymousId !== undefined, 'needs userId or anonymousId')
  .openapi('NotInterested');

const RuleBody = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    kind: z.enum(['pin', 'boost', 'bury']),
    itemId: id,
    surface: z.enum(SURFACES).nullable().default(null),
    factor: z.number().min(0).max(100).default(1),
  })
  .openapi('RecommendRule');

export type SubjectsOf = (ids: { userId?: string | undefined; anonymousId?: string | undefined }) => string[];

/** The audit log's writer: a staff preview for a named shopper reads that shopper's history. */
export type RecommendAudit = {
  record(entry: {
    action: string;
    actor: string;
    target: string;
    outcome: 'success' | 'failure' | 'denied';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<void>;
};

const PreviewQuery = z
  .object({
    surface: z.enum(SURFACES).default('for-you'),
    userId: id.optional(),
    anonymousId: id.optional(),
    itemId: id.optional(),
    limit: z.coerce.number().int().min(1).max(50).default(10),
    lambda: z.coerce.number().min(0).max(1).optional().openapi({
      description: 'Diversity trade-off for this preview: 1 = relevance only, lower = more variety.',
    }),
    personalised: z
      .enum(['true', 'false'])
      .default('true')
      .openapi({ description: 'false: the list a shopper with personalisation off would get.' }),
  })
  .openapi('RecommendPreviewQuery');

export function mountRecommendRoutes(
  router: Router,
  deps: { service: RecommendService; guards: Guards; subjectsOf: SubjectsOf; audit?: RecommendAudit },
): void {
  const { service, guards, subjectsOf } = deps;
  const admin = guards.staff('recommend:admin');

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/recommendations',
      tags: ['recommend'],
      summary: 'Recommended products for a surface, each with a reason in en/id/zh.',
      middleware: [guards.writeKey] as const,
      request: { query: RecommendQuery },
      responses: {
        200: {
          description: 'Recommendations',
          content: { 'application/json': { schema: RecommendResponse } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const result = await service.recommend({
        surface: q.surface,
        subjectIds: subjectsOf(q),
        limit: q.limit,
        ...(q.itemId !== undefined ? { itemId: q.itemId } : {}),
        ...(q.category !== undefined ? { category: q.category } : {}),
        ...(q.brand !== undefined ? { brand: q.brand } : {}),
        ...(q.candidates !== undefined
          ? {
              candidates: q.candidates
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
      });
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/recommendations/not-interested',
      tags: ['recommend'],
      summary:
        'The shopper is not interested in an item or a category: removed from their recommendations at once.',
      middleware: [guards.writeKey] as const,
      request: { body: { required: true, content: { 'application/json': { schema: FeedbackBody } } } },
      responses: { 204: { description: 'Recorded' }, ...errors },
    }),
    async (c) => {
      const b = c.req.valid('json');
      await service.notInterested(subjectsOf(b), {
        ...(b.itemId ? { itemId: b.itemId } : {}),
        ...(b.category ? { category: b.category } : {}),
      });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/recommendations/rules',
      tags: ['recommend'],
      summary: 'Create or replace a shop rule: pin an item to the top, boost or bury it (factor).',
      middleware: [admin] as const,
      request: { body: { required: true, content: { 'application/json': { schema: RuleBody } } } },
      responses: { 204: { description: 'Stored' }, ...errors },
    }),
    async (c) => {
      const r = c.req.valid('json');
      await service.putRule({
        id: r.id,
        kind: r.kind,
        itemId: r.itemId,
        surface: r.surface,
        factor: r.factor,
      });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/recommendations/train',
      tags: ['recommend'],
      summary: 'Train a new model version now (it is also trained on a schedule).',
      middleware: [admin] as const,
      responses: {
        200: {
          description: 'Trained',
          content: {
            'application/json': {
              schema: z.object({ version: z.number(), stats: z.record(z.string(), z.unknown()) }),
            },
          },
        },
        ...errors,
      },
    }),
    async (c) => c.json(await service.train(), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/recommendations/preview',
      tags: ['recommend'],
      summary:
        'Staff preview of a list for a test shopper or session, with explanations, a diversity setting and the non-personalised list; counts no impression (recommend:admin; audited when a shopper is named).',
      middleware: [admin] as const,
      request: { query: PreviewQuery },
      responses: {
        200: {
          description: 'Recommendations',
          content: { 'application/json': { schema: RecommendResponse } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const subjectIds = subjectsOf(q);
      const principal = c.get('principal');
      if (subjectIds.length > 0)
        await deps.audit?.record({
          action: 'recommend.preview',
          actor:
            principal?.kind === 'staff'
              ? `staff:${principal.staffId}`
              : principal?.kind === 'server_key'
                ? `key:${principal.keyId}`
                : 'unknown',
          target: `subject:${subjectIds[0]!}`,
          outcome: 'success',
          details: { surface: q.surface, personalised: q.personalised === 'true' },
        });
      const result = await service.recommend({
        surface: q.surface,
        subjectIds,
        limit: q.limit,
        preview: true,
        nonPersonalised: q.personalised === 'false',
        ...(q.itemId !== undefined ? { itemId: q.itemId } : {}),
        ...(q.lambda !== undefined ? { diversityLambda: q.lambda } : {}),
      });
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/recommendations/fairness',
      tags: ['recommend'],
      summary: 'Exposure by brand and price band vs catalogue share, Gini over items, exposure of new items.',
      middleware: [admin] as const,
      request: { query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }) },
      responses: {
        200: {
          description: 'Report',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
        ...errors,
      },
    }),
    async (c) => c.json(await service.fairness(c.req.valid('query').days), 200),
  );
}
