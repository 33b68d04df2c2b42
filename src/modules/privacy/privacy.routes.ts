/**
 * Privacy HTTP API: self-service rights for a signed-in shopper (`/v1/me/*`), requests verified by a
 * one-time code (write key, from the shop's privacy centre), the staff privacy queue (`dsar:manage`), the
 * record of processing and retention settings (`privacy:admin`), and the public "how your data is used" text.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router } from '../../kernel/http.ts';
import type { Subject } from './holder.ts';
import { JURISDICTIONS, type Jurisdiction } from './jurisdictions.ts';
import type { EventPurgeStatus } from './event-purge.ts';
import { buildNotice, NOTICE_LOCALES, pickLocale } from './notice.ts';
import type { PrivacyService } from './privacy.service.ts';
import type { ProcessingService } from './processing.service.ts';
import { RETENTION_CLASSES, type RetentionService } from './retention.service.ts';
import { bundleToTar } from './tar.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('PrivacyError');
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

const JurisdictionSchema = z
  .enum(JURISDICTIONS)
  .openapi({ description: 'Which law the request is made under; sets the deadline.' });
const LegalHoldSchema = z.object({
  holder: z.string(),
  what: z.string(),
  why: z.string(),
  until: z.number().int().nullable(),
});
const TargetSchema = z.object({
  target: z.string(),
  seq: z.number().int(),
  status: z.enum(['pending', 'done', 'failed']),
  deleted: z.number().int(),
  legalHolds: z.array(LegalHoldSchema),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
});
const ReceiptSchema = z
  .object({
    kind: z.literal('candor.erasure-receipt'),
    version: z.literal(1),
    requestId: z.string(),
    jurisdiction: z.string(),
    receivedAt: z.number().int(),
    deadlineAt: z.number().int(),
    completedAt: z.number().int(),
    targets: z.array(z.object({ target: z.string(), status: z.literal('done'), deleted: z.number().int() })),
    legalHolds: z.array(LegalHoldSchema),
    eventPurge: z
      .discriminatedUnion('status', [
        z.object({ status: z.literal('purged'), purgedAt: z.number().int() }),
        z.object({ status: z.literal('scheduled'), purgeBy: z.number().int() }),
      ])
      .optional()
      .describe('Whether the erased events are already gone from the event files, or by when they will be'),
    publicKey: z.string(),
    signature: z.string(),
  })
  .openapi('ErasureReceipt');
const ErasureStatusSchema = z
  .object({
    requestId: z.string(),
    status: z.enum(['processing', 'completed']),
    targets: z.array(TargetSchema),
    receipt: ReceiptSchema.nullable(),
  })
  .openapi('ErasureStatus');
const RequestSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['export', 'erase']),
    jurisdiction: z.string(),
    channel: z.string(),
    status: z.string(),
    receivedAt: z.number().int(),
    deadlineAt: z.number().int(),
    verifiedAt: z.number().int().nullable(),
    verifiedBy: z.string().nullable(),
    approvedBy: z.string().nullable(),
    completedAt: z.number().int().nullable(),
    receipt: ReceiptSchema.nullable(),
    note: z.string().nullable(),
    locale: z.string().nullable(),
  })
  .openapi('PrivacyRequest');
const EventPurgeSchema = z
  .discriminatedUnion('status', [
    z.object({ status: z.literal('purged'), purgedAt: z.number().int() }),
    z.object({ status: z.literal('scheduled'), purgeBy: z.number().int() }),
  ])
  .openapi('EventPurgeStatus', {
    description:
      'Where the physical purge of the erased events stands now (the receipt records it as it was when signed)',
  });
const ByEmailBody = z.object({
  email: z.string().email().max(320),
  kind: z.enum(['export', 'erase']),
  jurisdiction: JurisdictionSchema,
  locale: z
    .enum(NOTICE_LOCALES)
    .optional()
    .openapi({ description: 'Language of the code message; from Accept-Language when absent' }),
});
const NO_CHANNEL =
  'No code channel: the operator has to set CANDOR_SMTP_URL and CANDOR_SMTP_FROM (error.details.configure)';
const ExportSchema = z.record(z.string(), z.unknown()).openapi('PersonalDataExport', {
  description: 'Everything held about the shopper; see the export section of the privacy guide.',
});
const IdParam = z.object({ id: z.string().min(1).max(80) });

export type PrivacyRouteDeps = {
  service: PrivacyService;
  processing: ProcessingService;
  retention: RetentionService;
  guards: Guards;
  resolveSubject(subjectId: string): Promise<Subject>;
  controller: string;
  /** The current physical-purge state of an erasure's events, null when it has none (yet). */
  eventPurgeOf(requestId: string): Promise<EventPurgeStatus | null>;
};

function shopperOf(c: Context<AppEnv>): { subjectId: string } {
  const p = c.get('principal');
  if (!p || p.kind !== 'shopper')
    throw new AppError('unauthorized', 'Sign in as a shopper (Authorization: Bearer <shopper token>).');
  return { subjectId: p.subjectId };
}

function staffOf(c: Context<AppEnv>): string {
  const p = c.get('principal');
  if (p?.kind === 'staff') return p.staffId;
  if (p?.kind === 'server_key') return `key:${p.keyId}`;
  throw new AppError('unauthorized', 'Sign in as staff.');
}

export function mountPrivacyRoutes(router: Router, deps: PrivacyRouteDeps): void {
  const { service, guards } = deps;
  const dsar = guards.staff('dsar:manage');
  const admin = guards.staff('privacy:admin');

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/export',
      tags: ['privacy'],
      summary: 'Download everything held about me (JSON, or a tar of JSON + CSV with ?format=tar)',
      middleware: [guards.shopper] as const,
      request: {
        query: z.object({
          format: z.enum(['json', 'tar']).optional(),
          jurisdiction: JurisdictionSchema.optional(),
        }),
      },
      responses: {
        200: {
          description: 'The export',
          content: {
            'application/json': { schema: ExportSchema },
            'application/x-tar': { schema: z.string() },
          },
        },
        400: err('Invalid parameters'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const subject = await deps.resolveSubject(shopperOf(c).subjectId);
      const { bundle } = await service.exportForShopper(subject, q.jurisdiction ?? 'gdpr');
      if (q.format === 'tar') {
        const tar = bundleToTar(bundle);
        return c.body(new Uint8Array(tar), 200, {
          'content-type': 'application/x-tar',
          'content-disposition': `attachment; filename="my-data-${new Date(bundle.generatedAt).toISOString().slice(0, 10)}.tar"`,
          'cache-control': 'no-store',
        });
      }
      c.header('cache-control', 'no-store');
      return c.json(bundle.document, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/erase',
      tags: ['privacy'],
      summary: 'Erase everything held about me; answers with the signed receipt',
      middleware: [guards.shopper] as const,
      request: {
        body: {
          required: false,
          content: {
            'application/json': { schema: z.object({ jurisdiction: JurisdictionSchema.optional() }) },
          },
        },
      },
      responses: {
        200: json('Erased; the receipt is signed by the server key', ErasureStatusSchema),
        202: json(
          'Started; a target (such as a processor) is being retried and the receipt follows when every target is done',
          ErasureStatusSchema,
        ),
        400: err('Invalid body'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const raw = await c.req.text();
      let jurisdiction: Jurisdiction = 'gdpr';
      if (raw.trim()) {
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new AppError(
            'invalid_json',
            'The body is not valid JSON; send {"jurisdiction":"gdpr"} or nothing.',
          );
        }
        const parsed = z.object({ jurisdiction: JurisdictionSchema.optional() }).safeParse(body);
        if (!parsed.success)
          throw new AppError('invalid_request', `jurisdiction must be one of ${JURISDICTIONS.join(', ')}.`);
        jurisdiction = parsed.data.jurisdiction ?? 'gdpr';
      }
      const subject = await deps.resolveSubject(shopperOf(c).subjectId);
      const status = await service.eraseForShopper(subject, jurisdiction);
      return c.json(status, status.status === 'completed' ? 200 : 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/me/requests',
      tags: ['privacy'],
      summary:
        'Ask the shop to handle an export or erasure for me; queued as verified for the privacy officer',
      middleware: [guards.shopper] as const,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.strictObject({ kind: z.enum(['export', 'erase']), jurisdiction: JurisdictionSchema }),
            },
          },
        },
      },
      responses: {
        202: json('Queued', z.object({ requestId: z.string(), status: z.string() })),
        400: err('Invalid body'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const subject = await deps.resolveSubject(shopperOf(c).subjectId);
      return c.json(await service.requestForShopper(subject, body.kind, body.jurisdiction), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/privacy/notice',
      tags: ['privacy'],
      summary: 'How shoppers’ data is used (en, id, zh): the source of the privacy page',
      request: { query: z.object({ locale: z.string().max(50).optional() }) },
      responses: { 200: json('The notice', z.record(z.string(), z.unknown()).openapi('PrivacyNotice')) },
    }),
    async (c) => {
      const locale = pickLocale(c.req.valid('query').locale ?? c.req.header('accept-language'));
      const processors = await deps.processing.listProcessors(true);
      return c.json(buildNotice(locale, await deps.retention.policies(), processors), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests',
      tags: ['privacy'],
      summary:
        'Request an export or erasure by e-mail address; a one-time code is sent to the shopper (write key)',
      middleware: [guards.writeKey] as const,
      request: { body: { required: true, content: { 'application/json': { schema: ByEmailBody } } } },
      responses: {
        202: json(
          'Accepted; if the address is known a code is on its way to it (the answer is the same either way)',
          z.object({ requestId: z.string() }),
        ),
        400: err('Invalid body'),
        401: err('No write key'),
        503: err(NO_CHANNEL),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(
        await service.requestByEmail({
          ...body,
          locale: body.locale ?? pickLocale(c.req.header('accept-language')),
          actor: { kind: 'anonymous' },
        }),
        202,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests/{id}/verify',
      tags: ['privacy'],
      summary: 'Verify a request with its one-time code; an export is answered at once',
      middleware: [guards.writeKey] as const,
      request: {
        params: IdParam,
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ code: z.string().min(1).max(20) }) } },
        },
      },
      responses: {
        200: json('Verified', z.object({ status: z.string(), export: ExportSchema.optional() })),
        400: err('Wrong or expired code'),
        401: err('No write key'),
        404: err('No such request'),
        409: err('Not awaiting verification'),
        429: err('Too many attempts'),
      },
    }),
    async (c) => {
      const r = await service.verify(c.req.valid('param').id, c.req.valid('json').code);
      return c.json({ status: r.status, ...(r.bundle ? { export: r.bundle.document } : {}) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/privacy/requests',
      tags: ['privacy'],
      summary: 'The privacy queue (dsar:manage)',
      middleware: [dsar] as const,
      request: {
        query: z.object({
          status: z
            .enum(['awaiting_verification', 'verified', 'processing', 'completed', 'rejected'])
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
      },
      responses: {
        200: json('Requests, newest first', z.object({ requests: z.array(RequestSchema) })),
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(
        {
          requests: await service.dsar.list({
            ...(q.status ? { status: q.status } : {}),
            ...(q.limit ? { limit: q.limit } : {}),
          }),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests/by-email',
      tags: ['privacy'],
      summary:
        'Enter a request received by mail or phone; the shopper gets a code to verify it (dsar:manage)',
      middleware: [dsar] as const,
      request: { body: { required: true, content: { 'application/json': { schema: ByEmailBody } } } },
      responses: {
        202: json('Created', z.object({ requestId: z.string() })),
        400: err('Invalid body'),
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
        503: err(
          `${NO_CHANNEL}, or the relay did not take the message (the request is kept; resend the code)`,
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(
        await service.requestByEmail({
          ...body,
          locale: body.locale ?? pickLocale(c.req.header('accept-language')),
          actor: { kind: 'staff', staffId: staffOf(c) },
        }),
        202,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/privacy/requests/{id}',
      tags: ['privacy'],
      summary: 'One request with its erasure targets (dsar:manage)',
      middleware: [dsar] as const,
      request: { params: IdParam },
      responses: {
        200: json(
          'The request',
          z.object({
            request: RequestSchema,
            targets: z.array(TargetSchema),
            eventPurge: EventPurgeSchema.nullable(),
          }),
        ),
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
        404: err('No such request'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(
        {
          request: await service.dsar.require(id),
          targets: await service.dsar.targets(id),
          eventPurge: await deps.eventPurgeOf(id),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests/{id}/approve',
      tags: ['privacy'],
      summary:
        'Approve a verified request; an erasure runs at once, a queued export is produced for the officer to deliver (dsar:manage)',
      middleware: [dsar] as const,
      request: { params: IdParam },
      responses: {
        200: json(
          'Done or recorded',
          z.union([
            ErasureStatusSchema,
            z.object({ requestId: z.string(), status: z.string(), export: ExportSchema.optional() }),
          ]),
        ),
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
        404: err('No such request'),
        409: err('Already finished'),
        412: err('Not verified by the shopper'),
      },
    }),
    async (c) => c.json(await service.approve(c.req.valid('param').id, staffOf(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests/{id}/reject',
      tags: ['privacy'],
      summary: 'Reject a request, with the reason kept as evidence (dsar:manage)',
      middleware: [dsar] as const,
      request: {
        params: IdParam,
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ reason: z.string().min(1).max(500) }) } },
        },
      },
      responses: {
        204: { description: 'Rejected' },
        400: err('Invalid body'),
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
        404: err('No such request'),
        409: err('Already completed'),
      },
    }),
    async (c) => {
      await service.reject(c.req.valid('param').id, staffOf(c), c.req.valid('json').reason);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/privacy/requests/{id}/resend-code',
      tags: ['privacy'],
      summary: 'Send the shopper a new verification code (dsar:manage)',
      middleware: [dsar] as const,
      request: { params: IdParam },
      responses: {
        204: { description: 'Sent' },
        401: err('Not signed in'),
        403: err('Missing dsar:manage'),
        404: err('No such request'),
        409: err(
          'Needs no code, or no code can reach the shopper (names no one, or a guest with no address kept)',
        ),
        503: err(`${NO_CHANNEL}, or the relay did not take the message`),
      },
    }),
    async (c) => {
      await service.resendCode(c.req.valid('param').id, { kind: 'staff', staffId: staffOf(c) });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/privacy/processing-record',
      tags: ['privacy'],
      summary: 'Record of processing activities: processors, purposes, retention, share log (privacy:admin)',
      middleware: [admin] as const,
      responses: {
        200: json('The record', z.record(z.string(), z.unknown()).openapi('ProcessingRecord')),
        401: err('Not signed in'),
        403: err('Missing privacy:admin'),
      },
    }),
    async (c) => c.json(await deps.processing.record(deps.controller), 200),
  );

  const ProcessorBody = z.object({
    name: z.string().min(1).max(120),
    role: z.enum(['processor', 'controller', 'sub_processor']),
    purposes: z.array(z.string().max(60)).max(20),
    categories: z.array(z.string().max(60)).max(30),
    country: z.string().max(60).nullable(),
    webhookUrl: z.string().url().max(2000).nullable(),
    active: z.boolean().optional(),
  });

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/privacy/processors',
      tags: ['privacy'],
      summary: 'Register or update a processor; its webhook receives signed erasure notices (privacy:admin)',
      middleware: [admin] as const,
      request: { body: { required: true, content: { 'application/json': { schema: ProcessorBody } } } },
      responses: {
        200: json('Stored', z.record(z.string(), z.unknown())),
        400: err('Invalid body'),
        401: err('Not signed in'),
        403: err('Missing privacy:admin'),
      },
    }),
    async (c) => {
      const { active, ...b } = c.req.valid('json');
      return c.json(
        await deps.processing.upsertProcessor({ ...b, ...(active === undefined ? {} : { active }) }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/privacy/retention',
      tags: ['privacy'],
      summary: 'Retention period per data class (privacy:admin)',
      middleware: [admin] as const,
      responses: {
        200: json(
          'Policies',
          z.object({ policies: z.array(z.object({ dataClass: z.string(), ttlDays: z.number().int() })) }),
        ),
        401: err('Not signed in'),
        403: err('Missing privacy:admin'),
      },
    }),
    async (c) => c.json({ policies: await deps.retention.policies() }, 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/privacy/retention/{dataClass}',
      tags: ['privacy'],
      summary: 'Set the retention period of a data class (privacy:admin)',
      middleware: [admin] as const,
      request: {
        params: z.object({ dataClass: z.enum(RETENTION_CLASSES) }),
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ ttlDays: z.number().int().min(1).max(36500) }) },
          },
        },
      },
      responses: {
        204: { description: 'Stored' },
        400: err('Invalid'),
        401: err('Not signed in'),
        403: err('Missing privacy:admin'),
      },
    }),
    async (c) => {
      await deps.retention.setPolicy(c.req.valid('param').dataClass, c.req.valid('json').ttlDays);
      return c.body(null, 204);
    },
  );
}
