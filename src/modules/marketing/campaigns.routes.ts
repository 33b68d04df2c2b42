/**
 * Segments and campaigns over HTTP: rule-built segments with k-anonymous size estimates, campaigns with
 * dry runs, sends and lift, the suppression list, and the RFC 8058 one-click unsubscribe endpoint (its
 * signature is its authentication, so it needs no session).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../kernel/errors.ts';
import type { Guards, Principal, Router } from '../../kernel/http.ts';
import type { CampaignsService } from './campaigns.service.ts';
import { SegmentRuleSchema, type SegmentsService } from './segments.service.ts';

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
const IdParam = z.object({ id: z.string().min(1).max(100) });
const Rule = z
  .record(z.string(), z.unknown())
  .describe(
    'Rule tree: {all:[…]}, {any:[…]}, {not:…}, {trait:"rfm.f"|"lifecycle"|"churn_risk"|…, op, value}, {interest:"shoes"}, ' +
      '{event:"order_completed", min:2, withinDays:90, category?}, {viewedNotBought:{category, withinDays}}, {consent:"marketing_email", granted:true}.',
  );
const SegmentSchema = z
  .object({
    id: z.string(),
    key: z.string(),
    name: z.string(),
    rule: z.unknown(),
    profileBased: z.boolean(),
    size: z.number().nullable(),
    createdAt: z.number(),
    refreshedAt: z.number().nullable(),
  })
  .openapi('Segment');
const Estimate = z
  .object({
    size: z.number().nullable(),
    suppressed: z.boolean(),
    kAnonymity: z.number().nullable(),
    profileBased: z.boolean(),
  })
  .openapi('SegmentSize');
const Localised = z.object({
  en: z.string().min(1),
  id: z.string().min(1).optional(),
  zh: z.string().min(1).optional(),
});
const CampaignBody = z
  .strictObject({
    key: Key,
    name: z.string().min(1).max(200),
    segment: z.string().min(1).max(100).describe('Segment id or key.'),
    channel: z.enum(['email', 'webhook']),
    template: z
      .object({
        subject: Localised,
        text: Localised,
        defaultLocale: z
          .enum(['en', 'id', 'zh'])
          .optional()
          .describe("Language for shoppers whose locale is unknown or missing here (default: the shop's)."),
      })
      .describe(
        "Texts in en (required), id, zh, chosen by the shopper's locale; placeholders {{name}}, {{products}}, {{unsubscribe_url}}, {{shop}}.",
      ),
    holdout: z.number().min(0).max(0.5).optional(),
    frequencyCap: z
      .object({ count: z.number().int().min(0).max(100), days: z.number().int().min(1).max(365) })
      .optional(),
    quietHours: z
      .object({ start: z.number().int().min(0).max(23), end: z.number().int().min(0).max(23) })
      .optional(),
    timeZone: z.string().min(1).max(100).optional(),
    webhookUrl: z.url().optional(),
    conversionWindowDays: z.number().int().min(1).max(90).optional(),
  })
  .openapi('CampaignInput');
const CampaignSchema = z.record(z.string(), z.unknown()).openapi('Campaign');
const SendReportSchema = z
  .object({
    campaign: z.string(),
    dryRun: z.boolean(),
    status: z.string(),
    audience: z.number(),
    holdout: z.number(),
    sent: z.number(),
    alreadySent: z.number(),
    excluded: z.record(z.string(), z.number()),
    deferred: z.number(),
    unknown: z.number(),
    stopped: z.boolean(),
    recipients: z.array(z.string()),
  })
  .openapi('CampaignSendReport');

/** Owners see exact sizes; every other role gets groups under k suppressed (as analytics does). */
const isPrivileged = (p: Principal | undefined) => p?.kind === 'staff' && p.role === 'owner';

export function mountCampaignRoutes(
  router: Router,
  deps: {
    segments: SegmentsService;
    campaigns: CampaignsService;
    guards: Guards;
    subjectOf(who: { userId?: string | undefined; anonymousId?: string | undefined }): string;
  },
): void {
  const { segments, campaigns, guards } = deps;
  const shown = async (s: Awaited<ReturnType<SegmentsService['get']>>, privileged: boolean) => ({
    ...s,
    size: (await segments.sizeOf(s.id, { privileged })).size,
  });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/segments',
      tags: ['marketing'],
      summary: 'Create a segment from a rule tree (membership is computed at once)',
      middleware: [guards.staff('marketing:write')] as const,
      request: { body: json(z.strictObject({ key: Key, name: z.string().min(1).max(200), rule: Rule })) },
      responses: { 201: ok(SegmentSchema, 'Created'), ...guarded, 409: err('Key taken') },
    }),
    async (c) => {
      const s = await segments.create(c.req.valid('json'));
      return c.json(await shown(s, isPrivileged(c.get('principal'))), 201);
    },
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/segments',
      tags: ['marketing'],
      summary: 'List segments',
      middleware: [guards.staff('marketing:read')] as const,
      responses: { 200: ok(z.object({ segments: z.array(SegmentSchema) }), 'Segments'), ...guarded },
    }),
    async (c) => {
      const p = isPrivileged(c.get('principal'));
      const list = await segments.list();
      return c.json({ segments: await Promise.all(list.map((s) => shown(s, p))) }, 200);
    },
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/segments/estimate',
      tags: ['marketing'],
      summary: 'Size of a draft rule (groups under k hidden from non-owners)',
      middleware: [guards.staff('marketing:read')] as const,
      request: { body: json(z.strictObject({ rule: Rule })) },
      responses: { 200: ok(Estimate, 'Estimate'), ...guarded },
    }),
    async (c) => {
      const { rule } = c.req.valid('json');
      const parsed = SegmentRuleSchema.safeParse(rule);
      if (!parsed.success) {
        throw new AppError(
          'invalid_request',
          `The rule is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; ')}.`,
        );
      }
      return c.json(
        await segments.estimate(parsed.data, { privileged: isPrivileged(c.get('principal')) }),
        200,
      );
    },
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/segments/{id}/refresh',
      tags: ['marketing'],
      summary: 'Recompute a segment’s membership now',
      middleware: [guards.staff('marketing:write')] as const,
      request: { params: IdParam },
      responses: { 200: ok(Estimate, 'Refreshed'), ...guarded, 404: err('No such segment') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await segments.refresh(id);
      return c.json(await segments.sizeOf(id, { privileged: isPrivileged(c.get('principal')) }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/campaigns',
      tags: ['marketing'],
      summary: 'Create a campaign (draft) for a segment',
      middleware: [guards.staff('marketing:write')] as const,
      request: { body: json(CampaignBody) },
      responses: {
        201: ok(CampaignSchema, 'Created'),
        ...guarded,
        404: err('No such segment'),
        409: err('Key taken'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const created = await campaigns.create({
        key: b.key,
        name: b.name,
        segment: b.segment,
        channel: b.channel,
        template: b.template,
        ...(b.holdout !== undefined ? { holdout: b.holdout } : {}),
        ...(b.frequencyCap ? { frequencyCap: b.frequencyCap } : {}),
        ...(b.quietHours ? { quietHours: b.quietHours } : {}),
        ...(b.timeZone !== undefined ? { timeZone: b.timeZone } : {}),
        ...(b.webhookUrl !== undefined ? { webhookUrl: b.webhookUrl } : {}),
        ...(b.conversionWindowDays !== undefined ? { conversionWindowDays: b.conversionWindowDays } : {}),
      });
      return c.json(created as unknown as Record<string, unknown>, 201);
    },
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/campaigns',
      tags: ['marketing'],
      summary: 'List campaigns, newest first',
      middleware: [guards.staff('marketing:read')] as const,
      responses: { 200: ok(z.object({ campaigns: z.array(CampaignSchema) }), 'Campaigns'), ...guarded },
    }),
    async (c) => c.json({ campaigns: await campaigns.list() }, 200),
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/campaigns/{id}',
      tags: ['marketing'],
      summary: 'One campaign',
      middleware: [guards.staff('marketing:read')] as const,
      request: { params: IdParam },
      responses: { 200: ok(CampaignSchema, 'Campaign'), ...guarded, 404: err('No such campaign') },
    }),
    async (c) =>
      c.json((await campaigns.get(c.req.valid('param').id)) as unknown as Record<string, unknown>, 200),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/campaigns/{id}/send',
      tags: ['marketing'],
      summary:
        'Send (or resume) a campaign; dryRun shows who would receive it and exclusion counts by reason',
      middleware: [guards.staff('marketing:write')] as const,
      request: { params: IdParam, body: json(z.strictObject({ dryRun: z.boolean().optional() })) },
      responses: { 200: ok(SendReportSchema, 'Report'), ...guarded, 404: err('No such campaign') },
    }),
    async (c) => {
      const { dryRun } = c.req.valid('json');
      return c.json(await campaigns.send(c.req.valid('param').id, { dryRun: dryRun ?? false }), 200);
    },
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/campaigns/{id}/results',
      tags: ['marketing'],
      summary: 'Conversions within the window: delivered against the hold-out group, with lift',
      middleware: [guards.staff('marketing:read')] as const,
      request: { params: IdParam },
      responses: {
        200: ok(z.record(z.string(), z.unknown()), 'Results'),
        ...guarded,
        404: err('No such campaign'),
      },
    }),
    async (c) => c.json(await campaigns.results(c.req.valid('param').id), 200),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/suppressions',
      tags: ['marketing'],
      summary: 'Add a shopper to the global suppression list (no marketing on that channel, or any)',
      middleware: [guards.staff('marketing:write')] as const,
      request: {
        body: json(
          z.strictObject({
            userId: z.string().min(1).max(200).optional(),
            anonymousId: z.string().min(1).max(200).optional(),
            channel: z.enum(['email', 'webhook', 'all']).default('all'),
            reason: z.string().min(1).max(200).default('staff'),
          }),
        ),
      },
      responses: { 201: ok(z.object({ suppressed: z.literal(true) }), 'Suppressed'), ...guarded },
    }),
    async (c) => {
      const b = c.req.valid('json');
      if (!b.userId && !b.anonymousId) {
        throw new AppError('invalid_request', 'Give userId or anonymousId.');
      }
      await campaigns.suppress([deps.subjectOf(b)], b.channel, b.reason);
      return c.json({ suppressed: true as const }, 201);
    },
  );

  const TokenParam = z.object({ token: z.string().min(10).max(2000) });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/unsubscribe/{token}',
      tags: ['marketing'],
      summary:
        'RFC 8058 one-click unsubscribe (List-Unsubscribe-Post); the signed token identifies the shopper',
      request: { params: TokenParam },
      responses: {
        200: ok(z.object({ unsubscribed: z.literal(true), channel: z.string() }), 'Unsubscribed'),
        400: err('Invalid link'),
      },
    }),
    async (c) => {
      const r = await campaigns.unsubscribe(c.req.valid('param').token);
      return c.json({ unsubscribed: true as const, channel: r.channel }, 200);
    },
  );
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/unsubscribe/{token}',
      tags: ['marketing'],
      summary:
        'Confirmation page with a one-click button (a GET never unsubscribes: link scanners follow GETs)',
      request: { params: TokenParam },
      responses: {
        200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } },
        400: err('Invalid link'),
      },
    }),
    async (c) => {
      const token = c.req.valid('param').token;
      if (!campaigns.verifyToken(token)) {
        throw new AppError(
          'invalid_request',
          'This unsubscribe link is not valid; use the link from the message.',
        );
      }
      const action = `/v1/unsubscribe/${encodeURIComponent(token)}`;
      return c.html(
        `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post" action="${action}">` +
          `<input type="hidden" name="List-Unsubscribe" value="One-Click"><button>Unsubscribe</button></form>`,
        200,
      );
    },
  );
}
