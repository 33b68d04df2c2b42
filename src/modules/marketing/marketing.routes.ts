/**
 * Marketing HTTP API: experiments (design and results for staff, assignment for the shop's pages with the
 * write key, outcomes from the shop's backend) and loyalty points (earning, refunds and the review queue
 * for the backend and staff; balance and redemption for the signed-in shopper).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../kernel/errors.ts';
import type { Guards, Router } from '../../kernel/http.ts';
import type { ExperimentsService } from './experiments.service.ts';
import type { LoyaltyService } from './loyalty.service.ts';

const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
const guarded = {
  400: err('Invalid input'),
  401: err('Not signed in'),
  403: err('Missing permission'),
} as const;
const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const Key = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ or -, up to 64');
const Who = z.object({
  userId: z.string().min(1).max(200).optional(),
  anonymousId: z.string().min(1).max(200).optional(),
});

const MetricSchema = z.object({
  key: Key,
  kind: z.enum(['conversion', 'mean', 'revenue']),
  role: z.enum(['primary', 'secondary', 'guardrail']).default('primary'),
  mde: z
    .number()
    .positive()
    .describe('Smallest absolute effect worth detecting (tunes the sequential test).'),
  cuped: z.boolean().optional(),
  winsorise: z.number().gt(0.5).max(1).optional(),
  harmful: z.enum(['decrease', 'increase']).optional(),
});

const ExperimentBody = z
  .object({
    key: Key,
    name: z.string().min(1).max(200),
    layer: Key.optional(),
    traffic: z.number().gt(0).max(1).optional(),
    variants: z
      .array(z.object({ key: Key, weight: z.number().positive() }))
      .min(2)
      .max(10)
      .describe('The first variant is the control.'),
    metrics: z.array(MetricSchema).min(1).max(20),
    mode: z.enum(['sequential', 'fixed']).optional(),
    alpha: z.number().gt(0).max(0.2).optional(),
  })
  .openapi('ExperimentInput');

const ExperimentSchema = z
  .object({
    id: z.string(),
    key: z.string(),
    name: z.string(),
    layer: z.string(),
    status: z.enum(['draft', 'running', 'stopped']),
    variants: z.array(z.object({ key: z.string(), weight: z.number() })),
    metrics: z.array(MetricSchema),
    traffic: z.number(),
    buckets: z.tuple([z.number(), z.number()]),
    mode: z.enum(['sequential', 'fixed']),
    alpha: z.number(),
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    stoppedAt: z.number().nullable(),
  })
  .openapi('Experiment');

const ResultsSchema = z
  .object({
    experiment: z.string(),
    mode: z.string(),
    alpha: z.number(),
    correction: z.literal('holm'),
    exposures: z.record(z.string(), z.number()),
    srm: z.object({ chiSquare: z.number(), pValue: z.number(), mismatch: z.boolean() }),
    metrics: z.array(z.record(z.string(), z.unknown())),
    guardrailAlarms: z.array(z.object({ metric: z.string(), variant: z.string(), effect: z.number() })),
    warnings: z.array(z.string()),
  })
  .openapi('ExperimentResults');

const IdParam = z.object({ id: z.string().min(1).max(100) });

const EarnBody = z
  .discriminatedUnion('rule', [
    z.object({
      rule: z.literal('purchase'),
      userId: z.string().min(1).max(200),
      idempotencyKey: z.string().min(1).max(200),
      orderId: z.string().min(1).max(200),
      amountMinor: z.number().int().nonnegative().describe('Order amount in minor currency units.'),
    }),
    z.object({
      rule: z.literal('review'),
      userId: z.string().min(1).max(200),
      idempotencyKey: z.string().min(1).max(200),
      productId: z.string().min(1).max(200),
    }),
    z.object({
      rule: z.literal('share'),
      userId: z.string().min(1).max(200),
      idempotencyKey: z.string().min(1).max(200),
      productId: z.string().min(1).max(200),
      referredUserId: z.string().min(1).max(200).optional(),
    }),
  ])
  .openapi('LoyaltyEarn');

const TxnSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    points: z.number(),
    status: z.enum(['posted', 'held', 'rejected']),
    reference: z.string().nullable(),
    reason: z.string().nullable(),
    expiresAt: z.number().nullable(),
    createdAt: z.number(),
    replayed: z.boolean(),
  })
  .openapi('LoyaltyTransaction');

export type MarketingRouteDeps = {
  experiments: ExperimentsService;
  loyalty: LoyaltyService;
  guards: Guards;
  /** Subject pseudonyms of a shop customer id or device id (the same ones ingestion stores). */
  subjectOf(who: { userId?: string | undefined; anonymousId?: string | undefined }): string;
  /** Staff reads of one shopper's ledger are personal-data reads: each writes an audit record. */
  audit?: { record(entry: LoyaltyAuditEntry): Promise<void> };
};

export type LoyaltyAuditEntry = {
  action: string;
  actor: string;
  target: string;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, string | number | boolean | null>;
};

export function mountMarketingRoutes(router: Router, deps: MarketingRouteDeps): void {
  const { experiments, loyalty, guards } = deps;
  const canRead = guards.staff('marketing:read');
  const canWrite = guards.staff('marketing:write');
  const canExperiment = guards.staff('experiments:write');
  const canLoyalty = guards.staff('loyalty:admin');
  const subjectOf = (who: z.infer<typeof Who>): string => {
    if (!who.userId && !who.anonymousId)
      throw new AppError(
        'invalid_request',
        'Send userId (the shop customer id) or anonymousId (the device id).',
      );
    return deps.subjectOf(who);
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/experiments',
      tags: ['experiments'],
      summary: 'Design an experiment (draft): variants with weights, metrics, traffic share and layer.',
      middleware: [canExperiment] as const,
      request: { body: json(ExperimentBody) },
      responses: { 201: ok(ExperimentSchema, 'Created'), 409: err('Key taken or layer full'), ...guarded },
    }),
    async (c) => c.json(await experiments.create(c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/experiments',
      tags: ['experiments'],
      summary: 'List experiments, newest first.',
      middleware: [canRead] as const,
      responses: { 200: ok(z.object({ items: z.array(ExperimentSchema) }), 'Experiments'), ...guarded },
    }),
    async (c) => c.json({ items: await experiments.list() }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/experiments/{id}',
      tags: ['experiments'],
      summary: 'One experiment by id or key.',
      middleware: [canRead] as const,
      request: { params: IdParam },
      responses: { 200: ok(ExperimentSchema, 'The experiment'), 404: err('Unknown'), ...guarded },
    }),
    async (c) => c.json(await experiments.get(c.req.valid('param').id), 200),
  );

  for (const action of ['start', 'stop'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/v1/experiments/{id}/${action}`,
        tags: ['experiments'],
        summary:
          action === 'start' ? 'Start assigning subjects.' : 'Stop the experiment and free its traffic.',
        middleware: [canExperiment] as const,
        request: { params: IdParam },
        responses: {
          200: ok(ExperimentSchema, 'Updated'),
          404: err('Unknown'),
          409: err('Already stopped'),
          ...guarded,
        },
      }),
      async (c) => c.json(await experiments[action](c.req.valid('param').id), 200),
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/experiments/{id}/assign',
      tags: ['experiments'],
      summary:
        'The variant for a subject (deterministic hash, sticky, no cookie). expose=true (default) records the exposure.',
      middleware: [guards.writeKey] as const,
      request: { params: IdParam, body: json(Who.extend({ expose: z.boolean().optional() })) },
      responses: {
        200: ok(
          z.object({
            experiment: z.string(),
            variant: z.string().nullable(),
            reason: z.enum(['assigned', 'not_running', 'not_in_traffic']),
            exposed: z.boolean(),
          }),
          'The assignment',
        ),
        404: err('Unknown'),
        ...guarded,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const opts = body.expose === undefined ? {} : { expose: body.expose };
      return c.json(await experiments.assign(c.req.valid('param').id, subjectOf(body), opts), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/experiments/{id}/outcomes',
      tags: ['experiments'],
      summary:
        "Add to an exposed subject's metric value (conversions, revenue…), with an optional pre-period value.",
      middleware: [canWrite] as const,
      request: {
        params: IdParam,
        body: json(
          Who.extend({
            metric: Key,
            value: z.number().finite(),
            preValue: z.number().finite().optional(),
          }),
        ),
      },
      responses: {
        200: ok(z.object({ recorded: z.boolean(), reason: z.enum(['recorded', 'not_exposed']) }), 'Recorded'),
        404: err('Unknown'),
        ...guarded,
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(
        await experiments.recordOutcome({
          experiment: c.req.valid('param').id,
          subjectId: subjectOf(b),
          metric: b.metric,
          value: b.value,
          ...(b.preValue === undefined ? {} : { preValue: b.preValue }),
        }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/experiments/{id}/results',
      tags: ['experiments'],
      summary:
        'Results: always-valid p-values and confidence sequences (or fixed-horizon), CUPED, Holm-adjusted, SRM alarm, guardrails.',
      middleware: [canRead] as const,
      request: { params: IdParam },
      responses: { 200: ok(ResultsSchema, 'Results'), 404: err('Unknown'), ...guarded },
    }),
    async (c) => c.json(await experiments.results(c.req.valid('param').id), 200),
  );

  // ---- loyalty -----------------------------------------------------------------------------------

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/loyalty/earn',
      tags: ['loyalty'],
      summary:
        'Award points by rule (purchase, review, share). Idempotent on idempotencyKey; farming is held.',
      middleware: [canLoyalty] as const,
      request: { body: json(EarnBody) },
      responses: { 200: ok(TxnSchema, 'The transaction'), 409: err('Already awarded'), ...guarded },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const subjectId = subjectOf({ userId: b.userId });
      const t =
        b.rule === 'purchase'
          ? await loyalty.earn({
              rule: 'purchase',
              subjectId,
              idempotencyKey: b.idempotencyKey,
              orderId: b.orderId,
              amountMinor: b.amountMinor,
            })
          : b.rule === 'review'
            ? await loyalty.earn({
                rule: 'review',
                subjectId,
                idempotencyKey: b.idempotencyKey,
                productId: b.productId,
              })
            : await loyalty.earn({
                rule: 'share',
                subjectId,
                idempotencyKey: b.idempotencyKey,
                productId: b.productId,
                ...(b.referredUserId ? { referredSubjectId: subjectOf({ userId: b.referredUserId }) } : {}),
              });
      return c.json(t, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/loyalty/refunds',
      tags: ['loyalty'],
      summary: 'An order was refunded: reverse the points it earned (never below a zero balance).',
      middleware: [canLoyalty] as const,
      request: {
        body: json(
          z.object({ orderId: z.string().min(1).max(200), idempotencyKey: z.string().min(1).max(200) }),
        ),
      },
      responses: {
        200: ok(
          z.object({ reversed: z.number(), shortfall: z.number(), transactions: z.array(TxnSchema) }),
          'Reversed',
        ),
        404: err('No points for the order'),
        ...guarded,
      },
    }),
    async (c) => c.json(await loyalty.refund(c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/loyalty/held',
      tags: ['loyalty'],
      summary: 'Earnings held for review (bursts of reviews, self-referrals).',
      middleware: [canLoyalty] as const,
      responses: {
        200: ok(z.object({ items: z.array(TxnSchema.extend({ subjectId: z.string() })) }), 'Held'),
        ...guarded,
      },
    }),
    async (c) => c.json({ items: await loyalty.held() }, 200),
  );

  for (const action of ['approve', 'reject'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/v1/loyalty/transactions/{id}/${action}`,
        tags: ['loyalty'],
        summary:
          action === 'approve' ? 'Approve a held earning (posts the points).' : 'Reject a held earning.',
        middleware: [canLoyalty] as const,
        request: { params: IdParam },
        responses: { 200: ok(TxnSchema, 'Decided'), 404: err('Unknown'), 409: err('Not held'), ...guarded },
      }),
      async (c) => c.json(await loyalty[action](c.req.valid('param').id), 200),
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/loyalty/expire',
      tags: ['loyalty'],
      summary: 'Expire points past their period now (also runs daily).',
      middleware: [canLoyalty] as const,
      responses: { 200: ok(z.object({ subjects: z.number(), points: z.number() }), 'Expired'), ...guarded },
    }),
    async (c) => c.json(await loyalty.expire(), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/loyalty/accounts/{userId}',
      tags: ['loyalty'],
      summary: "One shopper's points balance and ledger, newest first (permission loyalty:admin; audited).",
      middleware: [canLoyalty] as const,
      request: {
        params: z.object({ userId: z.string().min(1).max(200).describe('The shop customer id.') }),
        query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      },
      responses: {
        200: ok(z.object({ balance: z.number(), transactions: z.array(TxnSchema) }), 'Balance and ledger'),
        ...guarded,
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const subject = subjectOf({ userId });
      const principal = c.get('principal');
      // The pseudonym, never the customer id, goes into the audit log.
      await deps.audit?.record({
        action: 'loyalty.account.read',
        actor:
          principal?.kind === 'staff'
            ? `staff:${principal.staffId}`
            : principal?.kind === 'server_key'
              ? `key:${principal.keyId}`
              : 'unknown',
        target: `subject:${subject}`,
        outcome: 'success',
      });
      const [balance, transactions] = await Promise.all([
        loyalty.balance(subject),
        loyalty.history(subject, c.req.valid('query').limit),
      ]);
      return c.json({ balance, transactions }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/loyalty/verify',
      tags: ['loyalty'],
      summary: 'Check the ledger: postings sum to zero and balances equal their postings.',
      middleware: [canLoyalty] as const,
      responses: {
        200: ok(
          z.object({ ok: z.boolean(), imbalance: z.number(), mismatchedAccounts: z.number() }),
          'Check',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json(await loyalty.verify(), 200),
  );

  const shopperSubject = (p: unknown): string => {
    const principal = p as { kind?: string; subjectId?: string } | undefined;
    if (principal?.kind !== 'shopper' || !principal.subjectId)
      throw new AppError('unauthorized', 'Send a shopper token (Authorization: Bearer …).');
    return principal.subjectId;
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/loyalty',
      tags: ['loyalty'],
      summary: 'My points balance and recent movements.',
      middleware: [guards.shopper] as const,
      responses: {
        200: ok(z.object({ balance: z.number(), transactions: z.array(TxnSchema) }), 'Balance'),
        401: err('No shopper token'),
      },
    }),
    async (c) => {
      const s = shopperSubject(c.get('principal'));
      return c.json({ balance: await loyalty.balance(s), transactions: await loyalty.history(s) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/loyalty/redeem',
      tags: ['loyalty'],
      summary: 'Redeem points for a coupon. Idempotent on idempotencyKey; never overdraws.',
      middleware: [guards.shopper] as const,
      request: {
        body: json(
          z.object({
            points: z.number().int().positive().max(100_000_000),
            idempotencyKey: z.string().min(1).max(200),
            currency: z
              .string()
              .regex(/^[A-Z]{3}$/)
              .optional(),
          }),
        ),
      },
      responses: {
        200: ok(
          z.object({
            transaction: TxnSchema,
            coupon: z.object({
              code: z.string(),
              points: z.number(),
              valueMinor: z.number(),
              currency: z.string(),
            }),
            balance: z.number(),
          }),
          'The coupon',
        ),
        401: err('No shopper token'),
        409: err('Not enough points'),
        400: err('Invalid input'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const subjectId = shopperSubject(c.get('principal'));
      return c.json(
        await loyalty.redeem({
          subjectId,
          points: b.points,
          // Scoped per shopper so one shopper's key can never collide with another's.
          idempotencyKey: `shopper:${subjectId}:${b.idempotencyKey}`,
          ...(b.currency ? { currency: b.currency } : {}),
        }),
        200,
      );
    },
  );
}
