/**
 * HTTP routes: sign-in (password → TOTP → session cookie), the signed-in account, staff administration,
 * sources and keys, security alerts. Request bodies are strict (unknown fields such as `id` or `role`
 * where they do not belong are refused: no mass assignment); responses are built from allow-lists.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { setCookie, deleteCookie } from 'hono/cookie';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, Router, StaffRole } from '../../kernel/http.ts';
import type { AbuseDetector } from './abuse.service.ts';
import type { AuthService, NewSession, StaffView } from './auth.service.ts';
import type { KeysService } from './keys.service.ts';
import { PASSWORD_MAX } from './password.ts';
import { pick, STAFF_ROLES } from './permissions.ts';
import { ipKey, SESSION_COOKIE } from './request.ts';

export type AuthRouteDeps = {
  auth: AuthService;
  keys: KeysService;
  abuse: AbuseDetector;
  guards: Guards & { session: MiddlewareHandler<AppEnv> };
  pseudonymize: Pseudonymizer;
  absoluteTimeoutMs: number;
};

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');
const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});

const Email = z.string().trim().min(3).max(320);
/** The length limit is checked as a policy message too; here it only stops absurd inputs early. */
const Password = z
  .string()
  .min(1)
  .max(PASSWORD_MAX * 4);
const Role = z.enum(STAFF_ROLES);
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});

const STAFF_FIELDS = [
  'id',
  'email',
  'role',
  'mfaEnabled',
  'disabled',
  'createdAt',
] as const satisfies readonly (keyof StaffView)[];
const StaffSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: Role,
    mfaEnabled: z.boolean(),
    disabled: z.boolean(),
    createdAt: z.number(),
  })
  .openapi('Staff');
const staffOut = (s: StaffView) => pick(s, STAFF_FIELDS);

const SessionSchema = z.object({ staff: StaffSchema, csrfToken: z.string(), expiresAt: z.number() });

function staffPrincipal(c: Context<AppEnv>): { id: string; role: StaffRole; sessionId: string | null } {
  const p = c.get('principal');
  if (p?.kind !== 'staff')
    throw new AppError('forbidden', 'This action needs a signed-in staff member, not an API key.');
  return { id: p.staffId, role: p.role, sessionId: p.sessionId };
}

export function authRoutes(router: Router, deps: AuthRouteDeps): void {
  const { auth, keys, guards } = deps;
  const meta = (c: Context<AppEnv>) => ({ ipKey: ipKey(c, deps.pseudonymize) });
  const setSession = (c: Context<AppEnv>, s: NewSession) => {
    setCookie(c, SESSION_COOKIE, s.token, {
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: Math.floor(deps.absoluteTimeoutMs / 1000),
    });
  };
  const actorOf = (c: Context<AppEnv>) => {
    const p = c.get('principal');
    return p?.kind === 'staff'
      ? `staff:${p.staffId}`
      : p?.kind === 'server_key'
        ? `key:${p.keyId}`
        : 'anonymous';
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/login',
      tags: ['auth'],
      summary: 'Sign in, step 1: email and password. Answers with an MFA challenge, never a session.',
      request: body(z.object({ email: Email, password: Password }).strict()),
      responses: {
        200: json(
          z.object({
            mfaRequired: z.literal(true),
            challengeToken: z.string(),
            expiresAt: z.number(),
            enrollment: z.object({ totpUri: z.string() }).nullable(),
          }),
        ),
        400: err('Invalid body'),
        401: err('Wrong email or password'),
        429: err('Too many attempts or account locked'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const r = await auth.login(input, meta(c));
      return c.json({ mfaRequired: true as const, ...r }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/password-reset',
      tags: ['auth'],
      summary:
        "Forgotten password, step 1: a single-use reset link is queued for the shop's mailer (same answer whether or not the account exists).",
      request: body(z.object({ email: Email }).strict()),
      responses: {
        202: json(z.object({ accepted: z.literal(true) })),
        400: err('Invalid body'),
        429: err('Too many requests'),
      },
    }),
    async (c) => {
      await auth.requestPasswordReset(c.req.valid('json').email, meta(c));
      return c.json({ accepted: true as const }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/password-reset/confirm',
      tags: ['auth'],
      summary:
        'Forgotten password, step 2: the reset token, a new password and a current TOTP or recovery code. Ends every session.',
      request: body(
        z
          .object({
            token: z.string().min(16).max(200),
            newPassword: Password,
            code: z
              .string()
              .regex(/^\d{6}$/)
              .optional(),
            recoveryCode: z.string().min(1).max(64).optional(),
          })
          .strict(),
      ),
      responses: {
        200: json(z.object({ reset: z.literal(true) })),
        400: err('Invalid body, weak password or no second factor'),
        401: err('Invalid, expired or used token; or a wrong code'),
        429: err('Too many attempts or account locked'),
      },
    }),
    async (c) => {
      await auth.resetPassword(c.req.valid('json'), meta(c));
      return c.json({ reset: true as const }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/outbox/claim',
      tags: ['auth'],
      summary:
        "The shop's mailer takes waiting staff messages (password-reset links); each is returned once (server key with mail:send).",
      middleware: [guards.staff('mail:send')] as const,
      request: {
        query: z.object({ limit: z.coerce.number().int().min(1).max(100).optional() }),
      },
      responses: {
        200: json(
          z.object({
            messages: z.array(
              z.object({
                id: z.string(),
                kind: z.string(),
                to: z.string(),
                token: z.string(),
                expiresAt: z.number(),
              }),
            ),
          }),
        ),
        401: err('No server key'),
        403: err('The key lacks mail:send'),
      },
    }),
    async (c) => {
      const messages = await auth.claimOutbox(c.req.valid('query').limit ?? 20, actorOf(c));
      return c.json({ messages }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/mfa/verify',
      tags: ['auth'],
      summary: 'Sign in, step 2: the authenticator code (or a recovery code). Sets the session cookie.',
      request: body(
        z
          .object({
            challengeToken: z.string().min(20).max(200),
            code: z.string().max(12).optional(),
            recoveryCode: z.string().max(40).optional(),
          })
          .strict()
          .refine(
            (b) => (b.code === undefined) !== (b.recoveryCode === undefined),
            'send exactly one of code or recoveryCode',
          ),
      ),
      responses: {
        200: json(SessionSchema.extend({ recoveryCodes: z.array(z.string()).nullable() })),
        400: err('Invalid body'),
        401: err('Wrong code or expired challenge'),
        429: err('Too many attempts'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const s = await auth.verifyMfa(input, meta(c));
      setSession(c, s);
      return c.json(
        {
          staff: staffOut(s.staff),
          csrfToken: s.csrfToken,
          expiresAt: s.expiresAt,
          recoveryCodes: s.recoveryCodes,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/logout',
      tags: ['auth'],
      summary: 'End this session.',
      middleware: [guards.session] as const,
      responses: {
        204: { description: 'Signed out' },
        401: err('Not signed in'),
        403: err('CSRF token missing'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      if (p.sessionId) await auth.logout(p.sessionId, p.id);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/logout-all',
      tags: ['auth'],
      summary: 'End every session of this account, on every device.',
      middleware: [guards.session] as const,
      responses: {
        200: json(z.object({ revoked: z.number() })),
        401: err('Not signed in'),
        403: err('CSRF token missing'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      const revoked = await auth.logoutAll(p.id, `staff:${p.id}`);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
      return c.json({ revoked }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/auth/me',
      tags: ['auth'],
      summary: 'The signed-in staff member and the CSRF token for writes.',
      middleware: [guards.session] as const,
      responses: {
        200: json(z.object({ staff: StaffSchema, csrfToken: z.string() })),
        401: err('Not signed in'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      return c.json(
        { staff: staffOut(await auth.getStaff(p.id)), csrfToken: auth.csrfTokenFor(p.sessionId ?? '') },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/password',
      tags: ['auth'],
      summary: 'Change the password (needs the current one). Ends every session and starts a new one.',
      middleware: [guards.session] as const,
      request: body(z.object({ currentPassword: Password, newPassword: Password }).strict()),
      responses: {
        200: json(SessionSchema),
        400: err('Password refused'),
        401: err('Wrong current password'),
        403: err('CSRF'),
        429: err('Too many attempts'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      const s = await auth.changePassword(p.id, p.sessionId, c.req.valid('json'), meta(c));
      setSession(c, s);
      return c.json({ staff: staffOut(s.staff), csrfToken: s.csrfToken, expiresAt: s.expiresAt }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/email',
      tags: ['auth'],
      summary: 'Change the sign-in email (needs the current password).',
      middleware: [guards.session] as const,
      request: body(z.object({ currentPassword: Password, email: Email }).strict()),
      responses: {
        200: json(z.object({ staff: StaffSchema })),
        400: err('Invalid'),
        401: err('Wrong password'),
        409: err('Email in use'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      return c.json(
        { staff: staffOut(await auth.changeEmail(p.id, p.sessionId, c.req.valid('json'), meta(c))) },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/mfa/enroll',
      tags: ['auth'],
      summary:
        'Start replacing the authenticator (needs the password). Confirm with a code from the new one.',
      middleware: [guards.session] as const,
      request: body(z.object({ password: Password }).strict()),
      responses: {
        200: json(z.object({ totpUri: z.string() })),
        401: err('Wrong password'),
        429: err('Too many attempts'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      return c.json(
        await auth.startMfaEnrollment(p.id, p.sessionId, c.req.valid('json').password, meta(c)),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/auth/mfa/enroll/confirm',
      tags: ['auth'],
      summary:
        'Confirm the new authenticator with its current code; returns new recovery codes (shown once).',
      middleware: [guards.session] as const,
      request: body(z.object({ code: z.string().max(12) }).strict()),
      responses: {
        200: json(z.object({ recoveryCodes: z.array(z.string()) })),
        401: err('Wrong code'),
        412: err('Not started'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      return c.json(await auth.confirmMfaEnrollment(p.id, p.sessionId, c.req.valid('json').code), 200);
    },
  );

  // --- staff administration (staff:admin) ---
  const admin = guards.staff('staff:admin');
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/staff',
      tags: ['staff'],
      summary: 'List staff accounts.',
      middleware: [admin] as const,
      responses: {
        200: json(z.object({ staff: z.array(StaffSchema) })),
        401: err('Not signed in'),
        403: err('Not allowed'),
      },
    }),
    async (c) => c.json({ staff: (await auth.listStaff()).map(staffOut) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/staff',
      tags: ['staff'],
      summary: 'Create a staff account. The new member sets up the authenticator at first sign-in.',
      middleware: [admin] as const,
      request: body(z.object({ email: Email, role: Role, password: Password }).strict()),
      responses: {
        201: json(z.object({ staff: StaffSchema })),
        400: err('Invalid'),
        403: err('Not allowed'),
        409: err('Exists'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      const r = await auth.createStaff(c.req.valid('json'), p);
      return c.json({ staff: staffOut(r.staff) }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/staff/{id}',
      tags: ['staff'],
      summary: 'One staff account.',
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: {
        200: json(z.object({ staff: StaffSchema })),
        403: err('Not allowed'),
        404: err('Unknown id'),
      },
    }),
    async (c) => c.json({ staff: staffOut(await auth.getStaff(c.req.valid('param').id)) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/staff/{id}',
      tags: ['staff'],
      summary: 'Change a role or disable/enable an account (audited; disabling ends every session).',
      middleware: [admin] as const,
      request: {
        params: IdParam,
        ...body(z.object({ role: Role.optional(), disabled: z.boolean().optional() }).strict()),
      },
      responses: {
        200: json(z.object({ staff: StaffSchema })),
        400: err('Invalid'),
        403: err('Not allowed'),
        404: err('Unknown id'),
        409: err('Last owner'),
      },
    }),
    async (c) => {
      const p = staffPrincipal(c);
      const b = c.req.valid('json');
      return c.json({ staff: staffOut(await auth.updateStaff(c.req.valid('param').id, b, p)) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/staff/{id}',
      tags: ['staff'],
      summary: 'Remove a staff account.',
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: {
        204: { description: 'Removed' },
        403: err('Not allowed'),
        404: err('Unknown id'),
        409: err('Last owner or self'),
      },
    }),
    async (c) => {
      await auth.deleteStaff(c.req.valid('param').id, staffPrincipal(c));
      return c.body(null, 204);
    },
  );

  // --- sources and write keys (sources:admin) ---
  const sourcesAdmin = guards.staff('sources:admin');
  const SourceSchema = z
    .object({
      id: z.string(),
      name: z.string(),
      createdAt: z.number(),
      keys: z.array(
        z.object({
          id: z.string(),
          prefix: z.string(),
          createdAt: z.number(),
          expiresAt: z.number().nullable(),
        }),
      ),
    })
    .openapi('Source');
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sources',
      tags: ['sources'],
      summary: 'List sources and their (masked) write keys.',
      middleware: [sourcesAdmin] as const,
      responses: { 200: json(z.object({ sources: z.array(SourceSchema) })), 403: err('Not allowed') },
    }),
    async (c) => c.json({ sources: await keys.listSources() }, 200),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sources',
      tags: ['sources'],
      summary: 'Create a source; its public write key is shown once.',
      middleware: [sourcesAdmin] as const,
      request: body(z.object({ name: z.string().min(1).max(100) }).strict()),
      responses: {
        201: json(z.object({ sourceId: z.string(), writeKey: z.string() })),
        400: err('Invalid'),
        403: err('Not allowed'),
      },
    }),
    async (c) => c.json(await keys.createSource(c.req.valid('json').name, actorOf(c)), 201),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sources/{id}/rotate-key',
      tags: ['sources'],
      summary: 'Issue a new write key; the previous ones keep working for graceSeconds (default 86400).',
      middleware: [sourcesAdmin] as const,
      request: {
        params: IdParam,
        ...body(
          z
            .object({
              graceSeconds: z
                .number()
                .int()
                .min(0)
                .max(30 * 86400)
                .optional(),
            })
            .strict(),
        ),
      },
      responses: {
        200: json(z.object({ writeKey: z.string(), previousValidUntil: z.number() })),
        403: err('Not allowed'),
        404: err('Unknown source'),
      },
    }),
    async (c) =>
      c.json(
        await keys.rotateWriteKey(
          c.req.valid('param').id,
          c.req.valid('json').graceSeconds ?? 86_400,
          actorOf(c),
        ),
        200,
      ),
  );

  // --- secret server keys (keys:admin) ---
  const keysAdmin = guards.staff('keys:admin');
  const ServerKeySchema = z
    .object({
      id: z.string(),
      name: z.string(),
      prefix: z.string(),
      scopes: z.array(z.string()),
      createdAt: z.number(),
      lastUsedAt: z.number().nullable(),
      revokedAt: z.number().nullable(),
    })
    .openapi('ServerKey');
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/keys',
      tags: ['keys'],
      summary: 'List secret server keys (never the keys themselves).',
      middleware: [keysAdmin] as const,
      responses: { 200: json(z.object({ keys: z.array(ServerKeySchema) })), 403: err('Not allowed') },
    }),
    async (c) => c.json({ keys: await keys.listServerKeys() }, 200),
  );
  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/keys',
      tags: ['keys'],
      summary: 'Create a secret server key with scopes; the key is shown once.',
      middleware: [keysAdmin] as const,
      request: body(
        z
          .object({ name: z.string().min(1).max(100), scopes: z.array(z.string().max(40)).min(1).max(40) })
          .strict(),
      ),
      responses: {
        201: json(z.object({ key: z.string(), serverKey: ServerKeySchema })),
        400: err('Invalid'),
        403: err('Not allowed'),
      },
    }),
    async (c) => c.json(await keys.createServerKey(c.req.valid('json'), actorOf(c)), 201),
  );
  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/keys/{id}',
      tags: ['keys'],
      summary: 'Revoke a secret server key.',
      middleware: [keysAdmin] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Revoked' }, 403: err('Not allowed'), 404: err('Unknown key') },
    }),
    async (c) => {
      await keys.revokeServerKey(c.req.valid('param').id, actorOf(c));
      return c.body(null, 204);
    },
  );

  // --- security alerts (security:read) ---
  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/security/alerts',
      tags: ['security'],
      summary: 'Suspicious activity found by the abuse detector, newest first.',
      middleware: [guards.staff('security:read')] as const,
      request: {
        query: z.object({
          since: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          kind: z.string().max(40).optional(),
        }),
      },
      responses: {
        200: json(
          z.object({
            alerts: z.array(
              z.object({
                id: z.string(),
                kind: z.string(),
                severity: z.string(),
                subject: z.string(),
                details: z.record(z.string(), z.unknown()),
                createdAt: z.number(),
              }),
            ),
          }),
        ),
        403: err('Not allowed'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const alerts = await deps.abuse.listAlerts({
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
      });
      return c.json({ alerts }, 200);
    },
  );
}
