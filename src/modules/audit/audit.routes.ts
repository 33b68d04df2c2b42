/** Staff routes over the audit log: read it page by page and re-verify the chain. */
import { createRoute, z } from '@hono/zod-openapi';
import type { Guards, Router } from '../../kernel/http.ts';
import type { AuditService } from './audit.service.ts';

const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});

const EntrySchema = z
  .object({
    seq: z.number().int(),
    ts: z.number().int(),
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    purpose: z.string().nullable(),
    outcome: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry');

const ListQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: 'Return entries after this sequence number.' }),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
});

const VerifySchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int(),
    firstBroken: z.number().int().nullable(),
    reason: z.string().nullable(),
    checkpoints: z.number().int(),
  })
  .openapi('AuditVerifyResult');

export function auditRoutes(router: Router, audit: AuditService, guards: Guards): void {
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit',
      tags: ['audit'],
      summary: 'Read the audit log in sequence order (permission audit:read)',
      middleware: [guards.staff('audit:read')] as const,
      request: { query: ListQuery },
      responses: {
        200: {
          description: 'A page of entries',
          content: {
            'application/json': {
              schema: z.object({ entries: z.array(EntrySchema), next: z.number().int().nullable() }),
            },
          },
        },
        400: { description: 'Invalid parameters', content: { 'application/json': { schema: ErrorSchema } } },
        401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
        403: { description: 'Missing permission', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const limit = q.limit ?? 100;
      const entries = await audit.list({
        limit,
        ...(q.after !== undefined ? { afterSeq: q.after } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
      });
      const next = entries.length === limit ? (entries.at(-1)?.seq ?? null) : null;
      return c.json({ entries, next }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/verify',
      tags: ['audit'],
      summary: 'Re-walk the hash chain and check the signed checkpoints (permission audit:read)',
      middleware: [guards.staff('audit:read')] as const,
      responses: {
        200: {
          description: 'Verification result',
          content: { 'application/json': { schema: VerifySchema } },
        },
        401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
        403: { description: 'Missing permission', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => c.json(await audit.verify(), 200),
  );
}
