/**
 * Consent HTTP API: record a decision (write key), read one's own ledger (shopper token), publish and
 * read notices (staff `consent:admin` to publish; anyone may read what shoppers are shown).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router } from '../../kernel/http.ts';
import { subjectIdsFor, type ConsentService } from './consent.service.ts';
import type { ConsentRecord, PurposeState } from './ledger.ts';
import { CONSENT_PURPOSES, GPC_PURPOSES, PURPOSES, type Purpose } from './purposes.ts';
import type { Notice } from './store.ts';
import { badWriteKey, missingWriteKey, readTrackingBody, writeKeyOf } from '../../kernel/tracking-body.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');

const Version = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a version is 1–64 letters, digits, dots, dashes or underscores');
const Id = z.union([z.string().trim().min(1).max(256), z.number().finite().transform(String)]);

const purposeShape = Object.fromEntries(CONSENT_PURPOSES.map((p) => [p, z.boolean().optional()])) as Record<
  (typeof CONSENT_PURPOSES)[number],
  z.ZodOptional<z.ZodBoolean>
>;

export const ConsentBody = z
  .object({
    userId: Id.nullish(),
    anonymousId: Id.nullish(),
    purposes: z.object(purposeShape).strict(),
    noticeVersion: Version,
    method: z.enum(['banner', 'gpc', 'api']).default('banner'),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as en, id or zh-Hant')
      .optional(),
    gpc: z.boolean().optional(),
    writeKey: z.string().optional(),
  })
  .openapi('ConsentDecision');

const NoticeBody = z
  .object({
    texts: z
      .object({
        en: z.string().min(1).max(100_000),
        id: z.string().min(1).max(100_000).optional(),
        zh: z.string().min(1).max(100_000).optional(),
      })
      .strict(),
  })
  .openapi('ConsentNoticeInput');

const NoticeSchema = z
  .object({
    version: z.string(),
    texts: z.record(z.string(), z.string()),
    hashes: z
      .record(z.string(), z.string())
      .openapi({ description: 'SHA-256 (hex) of each language’s text' }),
    hash: z.string().openapi({ description: 'SHA-256 of the whole notice (canonical JSON of the texts)' }),
    publishedAt: z.number(),
  })
  .openapi('ConsentNotice');

const StateSchema = z.object({
  granted: z.boolean(),
  consentId: z.string().nullable(),
  decidedAt: z.number().nullable(),
  method: z.string().nullable(),
  legalBasis: z.string(),
});

const RecordSchema = z.object({
  consentId: z.string(),
  purposes: z.record(z.string(), z.boolean()),
  noticeVersion: z.string().nullable(),
  noticeHash: z.string().nullable(),
  method: z.string(),
  locale: z.string().nullable(),
  channel: z.string().nullable(),
  decidedAt: z.number(),
  supersedes: z.string().nullable(),
});

const postConsentRoute = createRoute({
  method: 'post',
  path: '/v1/consent',
  tags: ['consent'],
  summary: 'Record a shopper’s consent decision (write key). Withdrawal is a decision with `false`.',
  description:
    'Write key as HTTP Basic user or `writeKey` in the body; JSON as application/json or text/plain. `Sec-GPC: 1` or `gpc: true` also records an opt-out of advertising and sale (method gpc); purposes stated explicitly in the same request win.',
  request: { body: { content: { 'application/json': { schema: ConsentBody } }, required: true } },
  responses: {
    201: {
      description: 'Recorded',
      content: {
        'application/json': {
          schema: z.object({ consentId: z.string(), gpcConsentId: z.string().optional() }),
        },
      },
    },
    400: { description: 'Invalid body', content: { 'application/json': { schema: ErrorSchema } } },
    401: {
      description: 'Missing or unknown write key',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    422: { description: 'Unknown notice version', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

const meConsentRoute = createRoute({
  method: 'get',
  path: '/v1/me/consent',
  tags: ['consent'],
  summary: 'The shopper’s own consent ledger and current state (shopper token).',
  responses: {
    200: {
      description: 'Full history (oldest first) and the current state per purpose',
      content: {
        'application/json': {
          schema: z.object({ current: z.record(z.string(), StateSchema), history: z.array(RecordSchema) }),
        },
      },
    },
    401: { description: 'No valid shopper token', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

const MyConsentBody = z
  .object({
    purposes: z.object(purposeShape).strict(),
    noticeVersion: Version,
    locale: ConsentBody.shape.locale,
  })
  .strict()
  .openapi('MyConsentDecision');

const postMeConsentRoute = createRoute({
  method: 'post',
  path: '/v1/me/consent',
  tags: ['consent'],
  summary: 'Record the signed-in shopper’s own consent decision (shopper token; method api).',
  description:
    'The privacy centre’s path: the shopper token names the shopper, so no write key and no customer id travel with the decision.',
  request: { body: { content: { 'application/json': { schema: MyConsentBody } }, required: true } },
  responses: {
    201: {
      description: 'Recorded',
      content: { 'application/json': { schema: z.object({ consentId: z.string() }) } },
    },
    400: { description: 'Invalid body', content: { 'application/json': { schema: ErrorSchema } } },
    401: { description: 'No valid shopper token', content: { 'application/json': { schema: ErrorSchema } } },
    422: { description: 'Unknown notice version', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

const putNoticeRoute = createRoute({
  method: 'put',
  path: '/v1/consent/notices/{version}',
  tags: ['consent'],
  summary: 'Publish a consent notice version (staff, consent:admin). Versions are immutable.',
  request: {
    params: z.object({ version: Version }),
    body: { content: { 'application/json': { schema: NoticeBody } }, required: true },
  },
  responses: {
    200: {
      description: 'Already published with the same text',
      content: { 'application/json': { schema: NoticeSchema } },
    },
    201: { description: 'Published', content: { 'application/json': { schema: NoticeSchema } } },
    409: {
      description: 'Version exists with different text',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});

const currentNoticeRoute = createRoute({
  method: 'get',
  path: '/v1/consent/notices/current',
  tags: ['consent'],
  summary: 'The notice shoppers are shown now (latest published version).',
  responses: {
    200: { description: 'Current notice', content: { 'application/json': { schema: NoticeSchema } } },
    404: { description: 'No notice published', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD');
const Nullable = z.number().nullable();
const GroupSchema = z.object({
  subjects: Nullable,
  gpcSubjects: Nullable,
  gpcShare: Nullable,
  withdrawals: Nullable,
  decisions: Nullable,
  suppressed: z.boolean(),
  purposes: z.array(
    z.object({
      purpose: z.enum(CONSENT_PURPOSES),
      granted: Nullable,
      refused: Nullable,
      optInRate: Nullable,
      withdrawals: Nullable,
      suppressed: z.boolean(),
    }),
  ),
});
const StatsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    period: z.enum(['day', 'week']),
    totals: GroupSchema,
    series: z.array(GroupSchema.extend({ start: z.string() })),
    privacy: z.object({ kAnonymity: z.number(), suppressedGroups: z.number() }),
  })
  .openapi('ConsentStats');

/** The longest period one statistics request may cover. */
const MAX_STATS_DAYS = 400;

const statsRoute = createRoute({
  method: 'get',
  path: '/v1/consent/stats',
  tags: ['consent'],
  summary:
    'Consent statistics (staff, consent:read): opt-in rate per purpose per day or week, GPC share, withdrawals; groups under k subjects suppressed.',
  request: {
    query: z.object({
      from: Day.optional().openapi({
        description: 'First day (inclusive, UTC). Default: 29 days before `to`.',
      }),
      to: Day.optional().openapi({ description: 'Last day (inclusive, UTC). Default: today.' }),
      period: z.enum(['day', 'week']).default('day'),
    }),
  },
  responses: {
    200: { description: 'Statistics', content: { 'application/json': { schema: StatsSchema } } },
    400: { description: 'Invalid period', content: { 'application/json': { schema: ErrorSchema } } },
    401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
    403: { description: 'Missing consent:read', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

function noticeJson(n: Notice) {
  return { version: n.version, texts: n.texts, hashes: n.hashes, hash: n.hash, publishedAt: n.publishedAt };
}

function recordJson(r: ConsentRecord) {
  return {
    consentId: r.consentId,
    purposes: r.purposes as Record<string, boolean>,
    noticeVersion: r.noticeVersion,
    noticeHash: r.noticeHash,
    method: r.method,
    locale: r.locale,
    channel: r.channel,
    decidedAt: r.decidedAt,
    supersedes: r.supersedes,
  };
}

function stateJson(current: Record<Purpose, PurposeState>, legal: (p: Purpose) => string) {
  const out: Record<string, z.infer<typeof StateSchema>> = {};
  for (const p of PURPOSES) out[p] = { ...current[p], legalBasis: legal(p) };
  return out;
}

export type ConsentRouteDeps = {
  service: ConsentService;
  guards: Guards;
  pseudonymize: (namespace: string, value: string) => string;
  authenticateWriteKey: (key: string) => Promise<{ sourceId: string } | null>;
  legalBasisOf: (p: Purpose) => string;
  /** Groups counted over fewer subjects than this are suppressed in statistics. */
  kAnonymity: number;
  now: () => number;
};

export function consentRoutes(router: Router, deps: ConsentRouteDeps): void {
  const { service, guards } = deps;

  router.openAPIRegistry.registerPath(postConsentRoute);
  router.use(
    '/v1/consent',
    cors({
      origin: '*',
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization'],
      maxAge: 86_400,
    }),
  );
  router.options('/v1/consent', (c) => c.body(null, 204));
  router.post('/v1/consent', async (c: Context<AppEnv>) => {
    const raw = await readTrackingBody(c, 64 * 1024);
    const key = writeKeyOf(c, raw);
    if (key === null) throw missingWriteKey();
    const source = await deps.authenticateWriteKey(key);
    if (source === null) throw badWriteKey();
    c.set('principal', { kind: 'source', sourceId: source.sourceId });
    const parsed = ConsentBody.safeParse(raw);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.map(String).join('.') || '(body)'))];
      throw new AppError(
        'invalid_request',
        `Invalid consent decision: ${parsed.error.issues
          .slice(0, 10)
          .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
          .join('; ')}. Send purposes as booleans per purpose (${CONSENT_PURPOSES.join(', ')}).`,
        { details: { fields } },
      );
    }
    const body = parsed.data;
    const subjectIds = subjectIdsFor(deps.pseudonymize, {
      userId: body.userId,
      anonymousId: body.anonymousId,
    });
    if (subjectIds.length === 0)
      throw new AppError('invalid_request', 'Name the shopper: send userId or anonymousId.');
    const actor = `source:${source.sourceId}`;
    const gpc = body.gpc === true || body.method === 'gpc' || c.req.header('sec-gpc')?.trim() === '1';
    // GPC is judged against the ledger: see decisions other processes already answered.
    if (gpc) await service.sync();
    const gpcRecord = gpc ? await service.signalGpc(subjectIds, { channel: source.sourceId, actor }) : null;
    const purposes: Partial<Record<Purpose, boolean>> = {};
    for (const [p, v] of Object.entries(body.purposes))
      if (typeof v === 'boolean') purposes[p as Purpose] = v;
    if (body.method === 'gpc') for (const p of GPC_PURPOSES) delete purposes[p];
    if (Object.keys(purposes).length === 0) {
      if (gpcRecord !== null) return c.json({ consentId: gpcRecord.consentId }, 201);
      if (gpc) {
        const latest = (await service.history(subjectIds)).records.at(-1);
        if (latest) return c.json({ consentId: latest.consentId }, 201);
      }
      throw new AppError('invalid_request', `State at least one purpose (${CONSENT_PURPOSES.join(', ')}).`);
    }
    const record = await service.record({
      subjectIds,
      purposes,
      noticeVersion: body.noticeVersion,
      method: body.method === 'gpc' ? 'api' : body.method,
      locale: body.locale ?? null,
      channel: source.sourceId,
      actor,
    });
    return c.json(
      gpcRecord === null
        ? { consentId: record.consentId }
        : { consentId: record.consentId, gpcConsentId: gpcRecord.consentId },
      201,
    );
  });

  router.use(meConsentRoute.path, guards.shopper);
  router.openapi(meConsentRoute, async (c) => {
    const principal = c.get('principal');
    if (principal?.kind !== 'shopper')
      throw new AppError('unauthorized', 'Send a shopper token (Authorization: Bearer …).');
    const { records, current } = await service.history([principal.subjectId]);
    return c.json({ current: stateJson(current, deps.legalBasisOf), history: records.map(recordJson) }, 200);
  });

  router.openapi(postMeConsentRoute, async (c) => {
    const principal = c.get('principal');
    if (principal?.kind !== 'shopper')
      throw new AppError('unauthorized', 'Send a shopper token (Authorization: Bearer …).');
    const body = c.req.valid('json');
    const purposes: Partial<Record<Purpose, boolean>> = {};
    for (const [p, v] of Object.entries(body.purposes))
      if (typeof v === 'boolean') purposes[p as Purpose] = v;
    if (Object.keys(purposes).length === 0)
      throw new AppError('invalid_request', `State at least one purpose (${CONSENT_PURPOSES.join(', ')}).`);
    // A browser with Global Privacy Control sends Sec-GPC on this request too: recorded as on /v1/consent.
    if (c.req.header('sec-gpc')?.trim() === '1') {
      await service.sync();
      await service.signalGpc([principal.subjectId], { channel: 'privacy_centre', actor: 'shopper' });
    }
    const record = await service.record({
      subjectIds: [principal.subjectId],
      purposes,
      noticeVersion: body.noticeVersion,
      method: 'api',
      locale: body.locale ?? null,
      channel: 'privacy_centre',
      actor: 'shopper',
    });
    return c.json({ consentId: record.consentId }, 201);
  });

  router.openapi(currentNoticeRoute, async (c) => {
    const notice = await service.currentNotice();
    if (!notice)
      throw new AppError(
        'not_found',
        'No consent notice is published yet. Publish one with PUT /v1/consent/notices/{version}.',
      );
    return c.json(noticeJson(notice), 200);
  });

  router.use(statsRoute.path, guards.staff('consent:read'));
  router.openapi(statsRoute, async (c) => {
    const q = c.req.valid('query');
    const DAY = 86_400_000;
    const toDay = q.to ?? new Date(deps.now()).toISOString().slice(0, 10);
    const toMs = Date.parse(`${toDay}T00:00:00Z`) + DAY;
    const fromMs = q.from === undefined ? toMs - 30 * DAY : Date.parse(`${q.from}T00:00:00Z`);
    // Date.parse rolls 2025-02-31 over into March; a day that does not round-trip is not a real day.
    const real = (day: string | undefined, ms: number) =>
      day === undefined || (!Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day);
    if (!real(q.to, toMs - DAY) || !real(q.from, fromMs))
      throw new AppError('invalid_request', 'from and to must be real days (YYYY-MM-DD).');
    if (fromMs >= toMs)
      throw new AppError('invalid_request', 'from must be on or before to. Swap the two days.');
    if ((toMs - fromMs) / DAY > MAX_STATS_DAYS)
      throw new AppError(
        'invalid_request',
        `Ask for at most ${MAX_STATS_DAYS} days at a time; use period=week for long ranges.`,
      );
    return c.json(await service.stats({ fromMs, toMs, period: q.period, kAnonymity: deps.kAnonymity }), 200);
  });

  router.on('PUT', '/v1/consent/notices/:version', guards.staff('consent:admin'));
  router.openapi(putNoticeRoute, async (c) => {
    const { version } = c.req.valid('param');
    const { texts } = c.req.valid('json');
    const principal = c.get('principal');
    const actor =
      principal?.kind === 'staff'
        ? `staff:${principal.staffId}`
        : principal?.kind === 'server_key'
          ? `key:${principal.keyId}`
          : 'system';
    const clean: Record<string, string> = { en: texts.en };
    if (texts.id !== undefined) clean.id = texts.id;
    if (texts.zh !== undefined) clean.zh = texts.zh;
    const { notice, created } = await service.publishNotice(version, clean, actor);
    return c.json(noticeJson(notice), created ? 201 : 200);
  });
}
