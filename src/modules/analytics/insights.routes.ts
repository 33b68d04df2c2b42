/**
 * HTTP routes for review sentiment, demand forecasts and demographics (under /v1/analytics/*, permission
 * analytics:read), registered by analyticsRoutes beside the behaviour queries.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv, Router } from '../../kernel/http.ts';
import type { AnalyticsRouteDeps } from './analytics.routes.ts';
import { parseRange } from './analytics.routes.ts';
import type { Viewer } from './analytics.service.ts';
import { FORECAST_MODELS } from './forecast.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('AnalyticsInsightsError');
const when = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date (YYYY-MM-DD) or date-time')
  .openapi({ description: 'ISO date (UTC day) or date-time.', example: '2025-01-31' });
const RangeQuery = {
  from: when.optional().openapi({ description: 'Start (inclusive). Default: 30 days before `to`.' }),
  to: when.optional().openapi({
    description: 'End: a date is inclusive (the whole day), a date-time exclusive. Default: now.',
  }),
};
const Privacy = z.object({ kAnonymity: z.number().int().nullable(), suppressedGroups: z.number().int() });
const Label = z.enum(['negative', 'neutral', 'positive']);
const Counts = z.object({ negative: z.number(), neutral: z.number(), positive: z.number() });
const Aspect = z.object({ aspect: z.string(), positiveReviews: z.number(), negativeReviews: z.number() });
const Lang = z.enum(['en', 'id', 'zh']);

const ReviewSentimentSchema = z
  .object({
    reviews: z.number(),
    scoredReviews: z.number(),
    shoppers: z.number(),
    sentiment: Counts,
    meanPolarity: z.number().nullable(),
    languages: z.object({ en: z.number(), id: z.number(), zh: z.number() }),
    products: z.array(
      z.object({
        productId: z.string(),
        reviews: z.number(),
        shoppers: z.number(),
        meanRating: z.number().nullable(),
        sentiment: Counts,
        meanPolarity: z.number().nullable(),
        aspects: z.object({ positive: z.array(Aspect), negative: z.array(Aspect) }),
        viewers: z.number(),
        buyers: z.number(),
        conversionRate: z.number().nullable(),
      }),
    ),
    reviewList: z.array(
      z.object({
        eventId: z.string(),
        productId: z.string().nullable(),
        day: z.string(),
        rating: z.number().nullable(),
        language: Lang,
        sentiment: Label,
        confidence: z.number(),
        polarity: z.number(),
      }),
    ),
    privacy: Privacy,
  })
  .openapi('ReviewSentiment');

const Errors = z.object({ mase: z.number().nullable(), smape: z.number().nullable() });
const ForecastSchema = z
  .object({
    level: z.enum(['product', 'category']),
    horizon: z.number(),
    history: z.object({ from: z.string(), to: z.string(), days: z.number() }),
    series: z.array(
      z.object({
        key: z.string(),
        units: z.number(),
        shoppers: z.number(),
        forecastDays: z.array(z.string()),
        model: z.enum(FORECAST_MODELS),
        errors: Errors.openapi({ description: 'Backtest MASE and sMAPE (%) of the chosen model.' }),
        baseline: Errors.openapi({ description: 'The same for the weekly seasonal-naive baseline.' }),
        candidates: z.record(z.string(), z.number()),
        folds: z.number(),
        points: z.array(
          z.object({
            step: z.number(),
            value: z.number(),
            lower80: z.number(),
            upper80: z.number(),
            lower95: z.number(),
            upper95: z.number(),
          }),
        ),
      }),
    ),
    privacy: Privacy,
  })
  .openapi('DemandForecast');

const Group = z.object({
  value: z.string(),
  shoppers: z.number(),
  buyers: z.number(),
  conversionRate: z.number().nullable(),
});
const DemographicsSchema = z
  .object({
    shoppers: z.number(),
    declared: z.number(),
    ageBand: z.array(Group),
    gender: z.array(Group),
    region: z.array(Group),
    privacy: Privacy,
  })
  .openapi('Demographics');

const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  400: { description: 'Invalid parameters', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
  403: { description: 'Missing permission', content: { 'application/json': { schema: ErrorSchema } } },
});

export function insightsRoutes(
  router: Router,
  deps: AnalyticsRouteDeps,
  viewer: (c: Context<AppEnv>) => Viewer,
): void {
  const { service, guards, clock } = deps;
  const get = (path: string, summary: string) => ({
    method: 'get' as const,
    path: `/v1/analytics/${path}`,
    tags: ['analytics'],
    summary,
    middleware: [guards.staff('analytics:read')],
  });

  router.openapi(
    createRoute({
      ...get(
        'reviews/sentiment',
        'Sentiment per review (en, id, zh), per product with top positive/negative aspects, beside conversion',
      ),
      request: {
        query: z.object({
          ...RangeQuery,
          limit: z.coerce
            .number()
            .int()
            .min(1)
            .max(500)
            .default(20)
            .openapi({ description: 'Products listed.' }),
          aspects: z.coerce.number().int().min(0).max(20).default(5),
          reviews: z.coerce
            .number()
            .int()
            .min(0)
            .max(1000)
            .default(50)
            .openapi({ description: 'Individual reviews listed, newest first (privileged viewers only).' }),
        }),
      },
      responses: ok(ReviewSentimentSchema, 'Review sentiment'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const range = parseRange(q.from, q.to, clock);
      return c.json(
        await service.reviewSentiment(
          { range, limit: q.limit, aspects: q.aspects, reviewLimit: q.reviews },
          viewer(c),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      ...get(
        'forecasts',
        'Daily demand per product or category for the next 14 or 28 days, with intervals and backtest errors',
      ),
      request: {
        query: z.object({
          level: z.enum(['product', 'category']).default('product'),
          horizon: z.enum(['14', '28']).default('14').openapi({ description: 'Days ahead: 14 or 28.' }),
          asOf: when.optional().openapi({ description: 'Forecast from this day (default: today, UTC).' }),
          historyDays: z.coerce.number().int().min(28).max(400).default(182),
          limit: z.coerce.number().int().min(1).max(200).default(20),
          ids: z.string().max(4000).optional().openapi({
            description: 'Comma-separated product ids or categories (default: the top sellers).',
          }),
        }),
      },
      responses: ok(ForecastSchema, 'Demand forecast'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const asOf = q.asOf === undefined ? clock.now().getTime() : parseRange(undefined, q.asOf, clock).to;
      const ids = q.ids
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      return c.json(
        await service.forecast(
          {
            level: q.level,
            horizon: q.horizon === '28' ? 28 : 14,
            asOf,
            historyDays: q.historyDays,
            limit: q.limit,
            ...(ids && ids.length > 0 ? { ids } : {}),
          },
          viewer(c),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      ...get(
        'demographics',
        'Active shoppers by declared age band, gender and region (consented traits only)',
      ),
      request: { query: z.object(RangeQuery) },
      responses: {
        ...ok(DemographicsSchema, 'Demographics'),
        412: {
          description: 'Profiles are not wired into this installation',
          content: { 'application/json': { schema: ErrorSchema } },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await service.demographics({ range: parseRange(q.from, q.to, clock) }, viewer(c)), 200);
    },
  );
}
