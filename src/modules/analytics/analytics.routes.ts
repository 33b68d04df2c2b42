/**
 * HTTP routes under /v1/analytics/* (permission analytics:read). Reads are GET with query parameters;
 * funnels take a JSON body (steps with filters); differentially private reports are POST because they
 * spend privacy budget.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Clock } from '../../kernel/clock.ts';
import type { AppEnv, Guards, Principal, Router } from '../../kernel/http.ts';
import type { AnalyticsService, Viewer } from './analytics.service.ts';
import { insightsRoutes } from './insights.routes.ts';
import { DAY_MS, type TimeRange } from './sql.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('AnalyticsError');

const DATE = /^\d{4}-\d{2}-\d{2}$/;
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
const limit = (max: number, dflt: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .openapi({ description: `Rows per list (default ${dflt}).` });

/** Turns from/to strings into a half-open epoch-ms range. */
export function parseRange(
  from: string | undefined,
  to: string | undefined,
  clock: Clock,
  defaultDays = 30,
): TimeRange {
  const end =
    to === undefined
      ? clock.now().getTime()
      : DATE.test(to)
        ? Date.parse(`${to}T00:00:00Z`) + DAY_MS
        : Date.parse(to);
  const start =
    from === undefined
      ? end - defaultDays * DAY_MS
      : Date.parse(DATE.test(from) ? `${from}T00:00:00Z` : from);
  return { from: start, to: end };
}

const Filter = z.object({
  property: z.string().min(1).max(80).openapi({ example: 'device_class' }),
  op: z.enum(['eq', 'neq']).default('eq'),
  value: z.union([z.string().max(500), z.array(z.string().max(500)).min(1).max(50)]),
});
const Step = z.object({
  type: z.string().min(1).max(64).openapi({ example: 'product_view' }),
  filters: z.array(Filter).max(10).optional(),
});
const FunnelBase = z.object({
  ...RangeQuery,
  steps: z.array(Step).min(2).max(8),
  windowSeconds: z
    .number()
    .int()
    .min(1)
    .max(90 * 86_400)
    .default(7 * 86_400),
  order: z.enum(['ordered', 'strict', 'any']).default('ordered'),
});
const FunnelBody = FunnelBase.extend({
  breakdown: z
    .string()
    .max(80)
    .optional()
    .openapi({ description: 'device_class, country, category, utm_source, … or props.<key>' }),
  breakdownLimit: z.number().int().min(1).max(500).optional(),
  dropOffStep: z
    .number()
    .int()
    .min(1)
    .max(7)
    .optional()
    .openapi({ description: 'List shoppers who reached this step but not the next.' }),
  dropOffLimit: z.number().int().min(1).max(1000).default(100),
}).openapi('FunnelRequest');
const DpFunnelBody = FunnelBase.extend({ epsilon: z.number().positive().max(10) }).openapi(
  'PrivateFunnelRequest',
);
const DpOverviewBody = z
  .object({
    ...RangeQuery,
    epsilon: z.number().positive().max(10),
    maxDaysPerShopper: z.number().int().min(1).max(92).optional(),
    maxOrdersPerDay: z.number().int().min(1).max(100).optional(),
    maxRevenuePerDay: z.number().int().min(1).max(1_000_000).optional(),
  })
  .openapi('PrivateOverviewRequest');

const Privacy = z.object({ kAnonymity: z.number().int().nullable(), suppressedGroups: z.number().int() });
const Figures = z.object({
  sessions: z.number(),
  shoppers: z.number(),
  convertedSessions: z.number(),
  orders: z.number(),
  revenue: z.number(),
  conversionRate: z.number().nullable(),
  averageOrderValue: z.number().nullable(),
});
const Period = z.object({
  from: z.number(),
  to: z.number(),
  totals: Figures,
  days: z.array(Figures.extend({ day: z.string() })),
});
const OverviewSchema = z
  .object({
    current: Period,
    comparison: Period,
    change: z.record(z.string(), z.number().nullable()),
    privacy: Privacy,
  })
  .openapi('Overview');
const StepResult = z.object({
  step: z.number(),
  type: z.string(),
  shoppers: z.number(),
  conversionFromStart: z.number().nullable(),
  conversionFromPrevious: z.number().nullable(),
  droppedOff: z.number(),
});
const FunnelGroup = z.object({
  steps: z.array(StepResult),
  timeToConvert: z.array(z.object({ label: z.string(), shoppers: z.number() })),
  medianTimeToConvertMs: z.number().nullable(),
});
const FunnelSchema = FunnelGroup.extend({
  breakdown: z
    .object({ property: z.string(), groups: z.array(FunnelGroup.extend({ value: z.string() })) })
    .nullable(),
  dropOff: z
    .object({
      step: z.number(),
      subjectIds: z.array(z.string()).openapi({ description: 'Pseudonymous subject ids.' }),
    })
    .nullable(),
  privacy: Privacy,
}).openapi('Funnel');
const Counted = { count: z.number(), shoppers: z.number() };
const PathsSchema = z
  .object({
    anchors: z.number(),
    steps: z.array(z.object({ step: z.string(), ...Counted })),
    paths: z.array(z.object({ steps: z.array(z.string()), ...Counted })),
    privacy: Privacy,
  })
  .openapi('Paths');
const BrowseDepthSchema = z
  .object({
    sessions: z.number(),
    meanDepth: z.number().nullable(),
    medianDepth: z.number().nullable(),
    histogram: z.array(z.object({ depth: z.number(), sessions: z.number(), shoppers: z.number() })),
    privacy: Privacy,
  })
  .openapi('BrowseDepth');
const DwellSchema = z
  .object({
    by: z.string(),
    rows: z.array(
      z.object({
        key: z.string(),
        leaves: z.number(),
        shoppers: z.number(),
        meanEngagedMs: z.number().nullable(),
        medianEngagedMs: z.number().nullable(),
        totalEngagedMs: z.number(),
        meanScrollDepth: z.number().nullable(),
      }),
    ),
    privacy: Privacy,
  })
  .openapi('Dwell');
const SearchRow = z.object({
  query: z.string(),
  searches: z.number(),
  shoppers: z.number(),
  zeroResultSearches: z.number(),
  searchSessions: z.number(),
  clickedSessions: z.number(),
  clickThroughRate: z.number().nullable(),
  clicks: z.number(),
  meanClickPosition: z.number().nullable(),
  cartSessions: z.number(),
  purchaseSessions: z.number(),
  searchToCartRate: z.number().nullable(),
  searchToPurchaseRate: z.number().nullable(),
  exits: z.number(),
});
const SearchSchema = z
  .object({
    totals: z.record(z.string(), z.number().nullable()),
    topQueries: z.array(SearchRow),
    zeroResultQueries: z.array(SearchRow),
    exitQueries: z.array(SearchRow),
    privacy: Privacy,
  })
  .openapi('SearchReport');
const CartSchema = z
  .object({
    carts: z.number(),
    shoppers: z.number(),
    purchasedCarts: z.number(),
    abandonedCarts: z.number(),
    abandonmentRate: z.number().nullable(),
    abandonedValue: z.number(),
    meanCartSize: z.number().nullable(),
    sizeHistogram: z.array(z.object({ size: z.number(), carts: z.number(), shoppers: z.number() })),
    products: z.array(
      z.object({
        productId: z.string(),
        carts: z.number(),
        shoppers: z.number(),
        purchasedCarts: z.number(),
        addToPurchaseRate: z.number().nullable(),
      }),
    ),
    categories: z.array(
      z.object({
        category: z.string(),
        carts: z.number(),
        shoppers: z.number(),
        share: z.number().nullable(),
      }),
    ),
    privacy: Privacy,
  })
  .openapi('CartReport');
const RetentionSchema = z
  .object({
    period: z.string(),
    cohortBy: z.string(),
    cohorts: z.array(
      z.object({
        cohort: z.string(),
        size: z.number(),
        returned: z.array(z.number().nullable()),
        rates: z.array(z.number().nullable()),
      }),
    ),
    privacy: Privacy,
  })
  .openapi('Retention');
const Dist = {
  reviews: z.number(),
  meanRating: z.number().nullable(),
  counts: z.record(z.string(), z.number()),
};
const ReviewsSchema = z
  .object({
    ...Dist,
    shoppers: z.number(),
    products: z.array(z.object({ productId: z.string(), shoppers: z.number(), ...Dist })),
    privacy: Privacy,
  })
  .openapi('Reviews');
const Noisy = z
  .object({ value: z.number(), epsilon: z.number(), ci95: z.tuple([z.number(), z.number()]) })
  .openapi('NoisyValue');
const Budget = z
  .object({ epsilonBudget: z.number(), spent: z.number(), remaining: z.number(), periodDays: z.number() })
  .openapi('PrivacyBudget');
const releasedOf = <T extends z.ZodType>(answer: T, name: string) =>
  z.object({ answer, cached: z.boolean(), epsilonSpent: z.number(), budget: Budget }).openapi(name);
const DpOverviewSchema = releasedOf(
  z.object({
    bounds: z.object({
      maxDaysPerShopper: z.number(),
      maxOrdersPerDay: z.number(),
      maxRevenuePerDay: z.number(),
    }),
    days: z.array(z.object({ day: z.string(), shoppers: Noisy, orders: Noisy, revenue: Noisy })),
    totals: z.object({ shopperDays: Noisy, orders: Noisy, revenue: Noisy }),
  }),
  'PrivateOverview',
);
const DpFunnelSchema = releasedOf(
  z.object({ steps: z.array(z.object({ step: z.number(), type: z.string(), shoppers: Noisy })) }),
  'PrivateFunnel',
);

const errors = {
  400: { description: 'Invalid parameters', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
  403: {
    description: 'Missing permission (or privacy budget spent)',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  ...errors,
});

export type PrivilegeCheck = (principal: Principal | undefined) => boolean;

/** By default only the owner sees groups smaller than k (raw access). */
export const ownerIsPrivileged: PrivilegeCheck = (p) => p?.kind === 'staff' && p.role === 'owner';

function actorOf(p: Principal | undefined): string {
  switch (p?.kind) {
    case 'staff':
      return `staff:${p.staffId}`;
    case 'server_key':
      return `key:${p.keyId}`;
    case 'source':
      return `source:${p.sourceId}`;
    case 'shopper':
      return 'shopper';
    default:
      return 'anonymous';
  }
}

export type AnalyticsRouteDeps = {
  service: AnalyticsService;
  guards: Guards;
  clock: Clock;
  isPrivileged: PrivilegeCheck;
};

export function analyticsRoutes(router: Router, deps: AnalyticsRouteDeps): void {
  const { service, guards, clock } = deps;
  const guard = [guards.staff('analytics:read')];
  const viewer = (c: Context<AppEnv>): Viewer => {
    const principal = c.get('principal');
    return { privileged: deps.isPrivileged(principal), actor: actorOf(principal) };
  };
  const range = (q: { from?: string | undefined; to?: string | undefined }) =>
    parseRange(q.from, q.to, clock);
  const get = (path: string, summary: string) => ({
    method: 'get' as const,
    path: `/v1/analytics/${path}`,
    tags: ['analytics'],
    summary,
    middleware: guard,
  });

  router.openapi(
    createRoute({
      ...get('overview', 'Sessions, shoppers, conversion, revenue and AOV per day, with a comparison period'),
      request: {
        query: z.object({ ...RangeQuery, compareFrom: when.optional(), compareTo: when.optional() }),
      },
      responses: ok(OverviewSchema, 'Overview'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const compare =
        q.compareFrom !== undefined || q.compareTo !== undefined
          ? { compare: parseRange(q.compareFrom, q.compareTo, clock) }
          : {};
      return c.json(await service.overview({ range: range(q), ...compare }, viewer(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/analytics/funnels',
      tags: ['analytics'],
      summary:
        'A funnel over ordered steps with filters, window, order mode, breakdown, time to convert and drop-off',
      middleware: guard,
      request: { body: { content: { 'application/json': { schema: FunnelBody } }, required: true } },
      responses: ok(FunnelSchema, 'Funnel'),
    }),
    async (c) => {
      const b = c.req.valid('json');
      const result = await service.funnel(
        {
          range: range(b),
          steps: b.steps.map((s) => ({ type: s.type, ...(s.filters ? { filters: s.filters } : {}) })),
          windowMs: b.windowSeconds * 1000,
          order: b.order,
          ...(b.breakdown !== undefined ? { breakdown: b.breakdown } : {}),
          ...(b.breakdownLimit !== undefined ? { breakdownLimit: b.breakdownLimit } : {}),
          ...(b.dropOffStep !== undefined ? { dropOff: { step: b.dropOffStep, limit: b.dropOffLimit } } : {}),
        },
        viewer(c),
      );
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      ...get('paths', 'Top next (or previous) steps and paths from (or to) a page or event'),
      request: {
        query: z.object({
          ...RangeQuery,
          type: z.string().max(64).optional().openapi({ description: 'Anchor event type.' }),
          path: z.string().max(2000).optional().openapi({ description: 'Anchor page path.' }),
          direction: z.enum(['next', 'previous']).default('next'),
          depth: z.coerce.number().int().min(1).max(5).default(3),
          limit: limit(200, 20),
        }),
      },
      responses: ok(PathsSchema, 'Paths'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const anchor = {
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.path !== undefined ? { path: q.path } : {}),
      };
      return c.json(
        await service.paths(
          { range: range(q), anchor, direction: q.direction, depth: q.depth, limit: q.limit ?? 20 },
          viewer(c),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      ...get('browse-depth', 'Browse depth (page, product and list views) per session'),
      request: { query: z.object(RangeQuery) },
      responses: ok(BrowseDepthSchema, 'Browse depth'),
    }),
    async (c) => c.json(await service.browseDepth(range(c.req.valid('query')), viewer(c)), 200),
  );

  router.openapi(
    createRoute({
      ...get('dwell', 'Engaged time and scroll depth per page, product or category'),
      request: {
        query: z.object({
          ...RangeQuery,
          by: z.enum(['path', 'product_id', 'category']).default('path'),
          limit: limit(500, 50),
        }),
      },
      responses: ok(DwellSchema, 'Dwell'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await service.dwell({ range: range(q), by: q.by, limit: q.limit ?? 50 }, viewer(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      ...get('search', 'Top and zero-result queries, CTR, click position, search conversion and exits'),
      request: { query: z.object({ ...RangeQuery, limit: limit(500, 20) }) },
      responses: ok(SearchSchema, 'Search report'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await service.search({ range: range(q), limit: q.limit ?? 20 }, viewer(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      ...get(
        'cart',
        'Cart abandonment, abandoned value, per-product add→purchase, cart size and composition',
      ),
      request: { query: z.object({ ...RangeQuery, limit: limit(500, 20) }) },
      responses: ok(CartSchema, 'Cart report'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await service.cart({ range: range(q), limit: q.limit ?? 20 }, viewer(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      ...get('retention', 'Cohort retention by first visit or first purchase, per week or month'),
      request: {
        query: z.object({
          ...RangeQuery,
          cohortBy: z.enum(['first_visit', 'first_purchase']).default('first_visit'),
          period: z.enum(['week', 'month']).default('week'),
          periods: z.coerce.number().int().min(1).max(52).default(12),
          returnType: z
            .string()
            .max(64)
            .optional()
            .openapi({ description: 'Count only this event type as a return (default: any).' }),
        }),
      },
      responses: ok(RetentionSchema, 'Retention'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const r =
        q.from === undefined
          ? parseRange(undefined, q.to, clock, q.period === 'week' ? 7 * q.periods : 31 * q.periods)
          : range(q);
      return c.json(
        await service.retention(
          {
            range: r,
            cohortBy: q.cohortBy,
            period: q.period,
            periods: q.periods,
            ...(q.returnType !== undefined ? { returnType: q.returnType } : {}),
          },
          viewer(c),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      ...get('reviews', 'Rating distribution overall and per product'),
      request: { query: z.object({ ...RangeQuery, limit: limit(500, 20) }) },
      responses: ok(ReviewsSchema, 'Reviews'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await service.reviews({ range: range(q), limit: q.limit ?? 20 }, viewer(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/analytics/private/overview',
      tags: ['analytics'],
      summary:
        'Differentially private daily shoppers, orders and revenue (spends privacy budget; repeats are free)',
      middleware: guard,
      request: { body: { content: { 'application/json': { schema: DpOverviewBody } }, required: true } },
      responses: ok(DpOverviewSchema, 'Noisy values with ε and 95 % intervals'),
    }),
    async (c) => {
      const b = c.req.valid('json');
      const bounds = {
        ...(b.maxDaysPerShopper !== undefined ? { maxDaysPerShopper: b.maxDaysPerShopper } : {}),
        ...(b.maxOrdersPerDay !== undefined ? { maxOrdersPerDay: b.maxOrdersPerDay } : {}),
        ...(b.maxRevenuePerDay !== undefined ? { maxRevenuePerDay: b.maxRevenuePerDay } : {}),
      };
      return c.json(
        await service.dpOverview({ range: range(b), epsilon: b.epsilon, ...bounds }, viewer(c)),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/analytics/private/funnels',
      tags: ['analytics'],
      summary: 'A differentially private funnel (spends privacy budget; repeats are free)',
      middleware: guard,
      request: { body: { content: { 'application/json': { schema: DpFunnelBody } }, required: true } },
      responses: ok(DpFunnelSchema, 'Noisy step counts with ε and 95 % intervals'),
    }),
    async (c) => {
      const b = c.req.valid('json');
      const steps = b.steps.map((s) => ({ type: s.type, ...(s.filters ? { filters: s.filters } : {}) }));
      return c.json(
        await service.dpFunnel(
          { range: range(b), steps, windowMs: b.windowSeconds * 1000, order: b.order, epsilon: b.epsilon },
          viewer(c),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      ...get('private/budget', "The shop's privacy budget: ε per period, spent and remaining"),
      responses: ok(Budget, 'Budget'),
    }),
    async (c) => c.json(await service.budget(), 200),
  );

  insightsRoutes(router, deps, viewer);
}
