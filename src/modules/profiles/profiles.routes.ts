/**
 * Profile HTTP API: the shopper's own profile, interests, personalisation switch, restriction and
 * rectification (`/v1/me/*`, shopper token), and the staff routes (PII reads for a purpose, merges, splits).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router, StaffRole } from '../../kernel/http.ts';
import type { Subject } from '../privacy/index.ts';
import type { IdentityService } from './identity.service.ts';
import type { ProfilesService } from './profiles.service.ts';
import { PII_READ_PURPOSES, type VaultService } from './vault.service.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('ProfilesError');
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

const InterestsSchema = z
  .object({
    personalised: z.boolean(),
    interests: z.array(z.object({ tag: z.string(), score: z.number() })),
    deleted: z.array(z.string()),
  })
  .openapi('Interests');
const IdentifiersSchema = z.object({
  email: z.string().optional(),
  phone: z.string().optional(),
  name: z.string().optional(),
  address: z.string().optional(),
});
const RectifyBody = z
  .object({
    email: z.string().email().max(320).optional(),
    phone: z.string().min(3).max(40).optional(),
    name: z.string().min(1).max(200).optional(),
    address: z.string().min(1).max(1000).optional(),
  })
  // Strict: a shopper's token decides whose profile this is; ids in the body are refused, not ignored.
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one of email, phone, name, address');

export type ProfilesRouteDeps = {
  profiles: ProfilesService;
  vault: VaultService;
  identity: IdentityService;
  guards: Guards;
  resolveShopper(subjectId: string): Promise<Subject>;
};

function shopperId(c: Context<AppEnv>): string {
  const p = c.get('principal');
  if (!p || p.kind !== 'shopper')
    throw new AppError('unauthorized', 'Sign in as a shopper (Authorization: Bearer <shopper token>).');
  return p.subjectId;
}

function staffOf(c: Context<AppEnv>): { staffId: string; role: StaffRole } {
  const p = c.get('principal');
  if (p?.kind !== 'staff')
    throw new AppError(
      'forbidden',
      'Only a signed-in staff member can do this (API keys cannot read personal data).',
    );
  return { staffId: p.staffId, role: p.role };
}

export function mountProfilesRoutes(router: Router, deps: ProfilesRouteDeps): void {
  const { profiles, guards } = deps;
  const me = async (c: Context<AppEnv>) => deps.resolveShopper(shopperId(c));

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/profile',
      tags: ['profiles'],
      summary: 'My contact details, traits and settings',
      middleware: [guards.shopper] as const,
      responses: {
        200: json(
          'The profile',
          z
            .object({
              identifiers: IdentifiersSchema,
              traits: z.array(
                z.object({
                  trait: z.string(),
                  value: z.unknown(),
                  source: z.string(),
                  updatedAt: z.number(),
                }),
              ),
              personalization: z.boolean(),
              restricted: z.boolean(),
            })
            .openapi('MyProfile'),
        ),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const subject = await me(c);
      const settings = await profiles.settings(subject);
      c.header('cache-control', 'no-store');
      return c.json(
        {
          identifiers: await deps.vault.readForSubject(subject.subjectIds),
          traits: await profiles.traits(subject),
          ...settings,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/me/profile',
      tags: ['profiles'],
      summary: 'Correct my contact details (rectification)',
      middleware: [guards.shopper] as const,
      request: { body: { required: true, content: { 'application/json': { schema: RectifyBody } } } },
      responses: {
        204: { description: 'Corrected' },
        400: err('Invalid body'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const subject = await me(c);
      const body = c.req.valid('json');
      const identifiers = Object.fromEntries(
        Object.entries(body).filter(([, v]) => v !== undefined),
      ) as Record<string, string>;
      await deps.vault.storeIdentifiers(subject.userId ?? shopperId(c), identifiers);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/interests',
      tags: ['profiles'],
      summary: 'My interest tags (and the ones I deleted)',
      middleware: [guards.shopper] as const,
      responses: { 200: json('Interests', InterestsSchema), 401: err('No valid shopper token') },
    }),
    async (c) => c.json(await profiles.interests(await me(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/me/interests/{tag}',
      tags: ['profiles'],
      summary: 'Delete one interest tag for good (it is never derived again)',
      middleware: [guards.shopper] as const,
      request: { params: z.object({ tag: z.string().min(1).max(100) }) },
      responses: {
        204: { description: 'Deleted' },
        400: err('Invalid tag'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      await profiles.deleteInterest(await me(c), c.req.valid('param').tag);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/me/interests',
      tags: ['profiles'],
      summary: 'Delete all my interest tags for good',
      middleware: [guards.shopper] as const,
      responses: { 204: { description: 'Deleted' }, 401: err('No valid shopper token') },
    }),
    async (c) => {
      const subject = await me(c);
      for (const t of (await profiles.interests(subject)).interests)
        await profiles.deleteInterest(subject, t.tag);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/me/personalization',
      tags: ['profiles'],
      summary: 'Turn personalisation on or off (off takes effect at once and objects to profiling)',
      middleware: [guards.shopper] as const,
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ enabled: z.boolean() }) } },
        },
      },
      responses: {
        200: json('The setting', z.object({ enabled: z.boolean(), personalised: z.boolean() })),
        400: err('Invalid body'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const subject = await me(c);
      const { enabled } = c.req.valid('json');
      await profiles.setPersonalization(subject, enabled);
      return c.json({ enabled, personalised: await profiles.isPersonalised(subject) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/me/restriction',
      tags: ['profiles'],
      summary: 'Restrict processing of my data (nothing is derived or used while on)',
      middleware: [guards.shopper] as const,
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ restricted: z.boolean() }) } },
        },
      },
      responses: {
        200: json('The setting', z.object({ restricted: z.boolean() })),
        400: err('Invalid body'),
        401: err('No valid shopper token'),
      },
    }),
    async (c) => {
      const { restricted } = c.req.valid('json');
      await profiles.setRestricted(await me(c), restricted);
      return c.json({ restricted }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/profiles/pii-read',
      tags: ['profiles'],
      summary: 'Read a shopper’s contact details for a stated purpose; audited (pii:read)',
      middleware: [guards.staff('pii:read')] as const,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                subjectId: z.string().min(1).max(100),
                purpose: z.enum(Object.keys(PII_READ_PURPOSES) as [string, ...string[]]),
              }),
            },
          },
        },
      },
      responses: {
        200: json('The identifiers', IdentifiersSchema),
        400: err('Invalid body'),
        401: err('Not signed in'),
        403: err('Role not allowed for this purpose'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const subject = await deps.identity.resolve(body.subjectId);
      c.header('cache-control', 'no-store');
      return c.json(await deps.vault.readPii(staffOf(c), subject.subjectIds, body.purpose), 200);
    },
  );

  const LinkBody = z.object({
    anonymousId: z.string().min(1).max(100),
    userId: z.string().min(1).max(100),
    reason: z.string().min(1).max(200),
  });
  for (const action of ['merge', 'split'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/v1/profiles/links/${action}`,
        tags: ['profiles'],
        summary:
          action === 'merge'
            ? 'Link a device pseudonym to a customer (reverses a split; audited; privacy:admin)'
            : 'Unlink a device pseudonym from a customer (reversible; audited; privacy:admin)',
        middleware: [guards.staff('privacy:admin')] as const,
        request: { body: { required: true, content: { 'application/json': { schema: LinkBody } } } },
        responses: {
          204: { description: 'Done' },
          400: err('Invalid body'),
          401: err('Not signed in'),
          403: err('Missing privacy:admin'),
          404: err('Not linked'),
        },
      }),
      async (c) => {
        const b = c.req.valid('json');
        const { staffId } = staffOf(c);
        if (action === 'merge') await deps.identity.merge(b.anonymousId, b.userId, staffId, b.reason);
        else await deps.identity.split(b.anonymousId, b.userId, staffId, b.reason);
        return c.body(null, 204);
      },
    );
  }
}
