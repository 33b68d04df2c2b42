/**
 * Fraud HTTP API. Scoring and outcomes need `fraud:score` (a shop backend's server key, or staff); the review
 * queue `fraud:review`; rules, dry-runs and training `fraud:admin`; a shopper reports a suspicious transaction
 * with their shopper token. Any body holding a full card number is refused before anything else reads it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Principal, Router } from '../../kernel/http.ts';
import { containsCardNumber, findCardNumber } from './card-number.ts';
import {
  CaseQuery,
  CaseSchema,
  DecisionBody,
  DryRunBody,
  OpenCaseBody,
  OutcomeBody,
  ReportBody,
  RuleBody,
  RuleSchema,
  RuleSet,
  ScoreBody,
  ScoreResult,
} from './fraud.schemas.ts';
import type { FraudService } from './fraud.service.ts';
import type { Rule } from './rules.ts';

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

/** `staff:<id>`, `key:<id>`, `shopper:<pseudonym>`: who acted, for the audit log (never a name or e-mail). */
export function actorOf(p: Principal | undefined): string {
  if (!p) return 'anonymous';
  switch (p.kind) {
    case 'staff':
      return `staff:${p.staffId}`;
    case 'server_key':
      return `key:${p.keyId}`;
    case 'shopper':
      return `shopper:${p.subjectId}`;
    case 'source':
      return `source:${p.sourceId}`;
  }
}

/** Refuses a body with a full card number anywhere (raw text and parsed values, so escapes cannot hide one). */
export const rejectCardNumbers: MiddlewareHandler<AppEnv> = async (c, next) => {
  const text = await c.req.text();
  let where: string | null = containsCardNumber(text) ? 'the request body' : null;
  if (!where) {
    try {
      where = findCardNumber(JSON.parse(text) as unknown);
    } catch {
      // Not JSON: the validator answers invalid_json.
    }
  }
  if (where) {
    throw new AppError(
      'card_number_present',
      `The request contains a full card number (at ${where}). Never send card numbers: send the payment provider's fingerprint, the BIN (first 6–8 digits) and the last 4 digits instead.`,
    );
  }
  await next();
};

const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export function mountFraudRoutes(router: Router, deps: { service: FraudService; guards: Guards }): void {
  const { service, guards } = deps;
  const canScore = guards.staff('fraud:score');
  const canReview = guards.staff('fraud:review');
  const canAdmin = guards.staff('fraud:admin');

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/score',
      tags: ['fraud'],
      summary: 'Score an order at checkout → {score 0–100, decision, reasons}. Never send a card number.',
      middleware: [canScore, rejectCardNumbers] as const,
      request: { body: json(ScoreBody) },
      responses: { 200: ok(ScoreResult, 'The score'), ...guarded },
    }),
    async (c) => c.json(await service.score(c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/outcomes',
      tags: ['fraud'],
      summary:
        'Report what happened to a scored order (chargeback, refund, return, not received, legitimate).',
      middleware: [canScore, rejectCardNumbers] as const,
      request: { body: json(OutcomeBody) },
      responses: {
        200: ok(z.object({ orderId: z.string(), kind: z.string() }), 'Recorded'),
        404: err('Order never scored'),
        ...guarded,
      },
    }),
    async (c) => c.json(await service.recordOutcome(c.req.valid('json'), actorOf(c.get('principal'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/reports',
      tags: ['fraud'],
      summary: 'A shopper reports a suspicious transaction (opens a review case).',
      middleware: [guards.shopper, rejectCardNumbers] as const,
      request: { body: json(ReportBody) },
      responses: { 201: ok(z.object({ caseId: z.string() }), 'Case opened'), ...guarded },
    }),
    async (c) => {
      const p = c.get('principal');
      if (p?.kind !== 'shopper')
        throw new AppError('unauthorized', 'Send a shopper token (Authorization: Bearer …).');
      const body = c.req.valid('json');
      const opened = await service.openCase(
        { source: 'shopper_report', kind: body.kind, orderId: body.orderId, subjectId: p.subjectId },
        actorOf(p),
      );
      return c.json({ caseId: opened.id }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/cases',
      tags: ['fraud'],
      summary: 'The review queue, newest first (permission fraud:review).',
      middleware: [canReview] as const,
      request: { query: CaseQuery },
      responses: {
        200: ok(
          z.object({ cases: z.array(CaseSchema), nextCursor: z.string().nullable() }),
          'A page of cases',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json(await service.listCases(c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/cases',
      tags: ['fraud'],
      summary: 'Open a case from an alert (permission fraud:review).',
      middleware: [canReview, rejectCardNumbers] as const,
      request: { body: json(OpenCaseBody) },
      responses: { 201: ok(CaseSchema, 'Case opened'), ...guarded },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await service.openCase({ source: 'alert', ...body }, actorOf(c.get('principal'))), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/cases/{id}',
      tags: ['fraud'],
      summary: "One case with the order's score and features (permission fraud:review; audited).",
      middleware: [canReview] as const,
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: ok(
          CaseSchema.extend({
            order: z
              .object({
                score: z.number(),
                decision: z.string(),
                scoredAt: z.string(),
                features: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
              })
              .nullable(),
          }),
          'The case',
        ),
        404: err('No such case'),
        ...guarded,
      },
    }),
    async (c) => c.json(await service.getCase(c.req.valid('param').id, actorOf(c.get('principal'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/cases/{id}/decision',
      tags: ['fraud'],
      summary: 'Approve or decline a case with reasons; the decision labels the order for training.',
      middleware: [canReview] as const,
      request: { params: z.object({ id: z.string().min(1).max(100) }), body: json(DecisionBody) },
      responses: {
        200: ok(CaseSchema, 'Decided'),
        404: err('No such case'),
        409: err('Already decided'),
        ...guarded,
      },
    }),
    async (c) =>
      c.json(
        await service.decideCase(c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('principal'))),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/features',
      tags: ['fraud'],
      summary: 'The feature names rules can use, with their types (permission fraud:admin).',
      middleware: [canAdmin] as const,
      responses: {
        200: ok(
          z.object({ features: z.array(z.object({ name: z.string(), type: z.string() })) }),
          'Features',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json({ features: service.features() }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/rules',
      tags: ['fraud'],
      summary: 'The current rule set and its version (permission fraud:admin).',
      middleware: [canAdmin] as const,
      responses: { 200: ok(RuleSet, 'Rules'), ...guarded },
    }),
    async (c) => c.json(await service.getRules(), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/fraud/rules',
      tags: ['fraud'],
      summary: 'Replace the whole rule set (a new version).',
      middleware: [canAdmin] as const,
      request: { body: json(z.object({ rules: z.array(RuleSchema).max(200) }).strict()) },
      responses: { 200: ok(RuleSet, 'Saved'), ...guarded },
    }),
    async (c) => c.json(await service.saveRules(c.req.valid('json').rules, actorOf(c.get('principal'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/rules',
      tags: ['fraud'],
      summary: 'Add one rule (a new version).',
      middleware: [canAdmin] as const,
      request: { body: json(RuleSchema) },
      responses: { 201: ok(RuleSet, 'Saved'), 409: err('Id taken'), ...guarded },
    }),
    async (c) => c.json(await service.addRule(c.req.valid('json'), actorOf(c.get('principal'))), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/rules/versions',
      tags: ['fraud'],
      summary: 'Earlier rule sets, newest first.',
      middleware: [canAdmin] as const,
      responses: {
        200: ok(
          z.object({
            versions: z.array(
              z.object({
                version: z.number(),
                createdAt: z.string(),
                createdBy: z.string(),
                rules: z.array(RuleSchema),
              }),
            ),
          }),
          'Versions',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json({ versions: await service.ruleVersions() }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/rules/dry-run',
      tags: ['fraud'],
      summary: 'What a proposed rule set would have decided on recent scored orders.',
      middleware: [canAdmin] as const,
      request: { body: json(DryRunBody) },
      responses: {
        200: ok(
          z.object({
            evaluated: z.number(),
            decisions: z.object({
              before: z.record(z.string(), z.number()),
              after: z.record(z.string(), z.number()),
            }),
            rules: z.array(
              z.object({
                id: z.string(),
                matches: z.number(),
                labelledFraud: z.number(),
                labelledLegit: z.number(),
              }),
            ),
            changed: z.array(
              z.object({ orderId: z.string(), before: z.string(), after: z.string(), score: z.number() }),
            ),
          }),
          'Dry-run result',
        ),
        ...guarded,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(
        await service.dryRun(body.rules, body.limit === undefined ? {} : { limit: body.limit }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/fraud/rules/{id}',
      tags: ['fraud'],
      summary: 'Change one rule (a new version).',
      middleware: [canAdmin] as const,
      request: { params: z.object({ id: z.string().min(1).max(64) }), body: json(RuleBody) },
      responses: { 200: ok(RuleSet, 'Saved'), 404: err('No such rule'), ...guarded },
    }),
    async (c) =>
      c.json(
        await service.updateRule(
          c.req.valid('param').id,
          c.req.valid('json') as Omit<Rule, 'id'>,
          actorOf(c.get('principal')),
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/fraud/rules/{id}',
      tags: ['fraud'],
      summary: 'Remove one rule (a new version).',
      middleware: [canAdmin] as const,
      request: { params: z.object({ id: z.string().min(1).max(64) }) },
      responses: { 200: ok(RuleSet, 'Saved'), 404: err('No such rule'), ...guarded },
    }),
    async (c) => c.json(await service.deleteRule(c.req.valid('param').id, actorOf(c.get('principal'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/fraud/model',
      tags: ['fraud'],
      summary: 'The active model: version, training size and weights (permission fraud:admin).',
      middleware: [canAdmin] as const,
      responses: {
        200: ok(
          z.object({
            version: z.string(),
            trainedAt: z.string().nullable(),
            trainingRows: z.number(),
            positives: z.number(),
            weights: z.array(z.object({ feature: z.string(), weight: z.number() })),
          }),
          'Model',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json(await service.modelInfo(), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/fraud/model/train',
      tags: ['fraud'],
      summary: 'Train the model now on the labels so far (it also trains daily).',
      middleware: [canAdmin] as const,
      responses: {
        200: ok(
          z.object({
            trained: z.boolean(),
            reason: z.string(),
            modelId: z.string().nullable(),
            rows: z.number(),
            positives: z.number(),
            holdout: z
              .object({
                prAuc: z.number(),
                rocAuc: z.number(),
                recallAt1pctFpr: z.number(),
                recallAt5pctFpr: z.number(),
              })
              .nullable(),
          }),
          'Training result',
        ),
        ...guarded,
      },
    }),
    async (c) => c.json(await service.train(actorOf(c.get('principal'))), 200),
  );
}
