/**
 * The guards every module's routes use (kernel `Guards`):
 * - `staff(permission)`: a staff session cookie whose role grants the permission (writes also need the
 *   CSRF header), or a secret server key (`Authorization: Bearer sk_…`) whose scopes include it;
 * - `shopper`: a shopper token (`Authorization: Bearer <JWT>`), principal subject = pseudonym of `sub`;
 * - `writeKey`: a source's public write key, as HTTP Basic user (analytics.js) or `writeKey` in the body.
 * 401 when credentials are missing or invalid, 403 when they do not grant the permission (audited).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Clock } from '../../kernel/clock.ts';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv, Guards, StaffRole } from '../../kernel/http.ts';
import type { AbuseDetector } from './abuse.service.ts';
import type { AuditWriter } from './deps.ts';
import { roleHas } from './permissions.ts';
import type { BucketRule, RateLimiter } from './rate-limit.ts';
import { bearer, CSRF_HEADER, ipKey, isSafeMethod, SESSION_COOKIE } from './request.ts';
import { verifyShopperToken } from './shopper-token.ts';

export type GuardDeps = {
  sessions: {
    authenticateSession(
      token: string,
    ): Promise<{ sessionId: string; staffId: string; role: StaffRole } | null>;
    checkCsrf(sessionId: string, presented: string | undefined): boolean;
  };
  keys: {
    authenticateWriteKey(key: string): Promise<{ sourceId: string } | null>;
    authenticateServerKey(key: string): Promise<{ keyId: string; scopes: string[] } | null>;
  };
  pseudonymize: Pseudonymizer;
  clock: Clock;
  audit: AuditWriter;
  abuse: Pick<AbuseDetector, 'noteKeyRequest' | 'notePublicRequest'>;
  limiter: RateLimiter;
};

export type GuardConfig = {
  shopperTokenSecret: string;
  /** The per-write-key bucket instead of WRITE_KEY_RULE (config `rateLimits`, name WRITE_KEY_LIMIT). */
  writeKeyRule?: BucketRule | undefined;
};

/** Bucket family of the per-write-key limit; also its name in config `rateLimits`. */
export const WRITE_KEY_LIMIT = 'ingest.key';
/**
 * Write keys: a generous bucket per key on the routes behind this guard (recommendations, experiments,
 * chat, the privacy centre); a flood from one key is refused before it reaches them. Every browser of a
 * shop sends with the same key, so a busy shop raises it (config `rateLimits`). Tracking and consent
 * authenticate the key themselves and are limited per address (`ingest.ip`).
 */
export const WRITE_KEY_RULE: BucketRule = { capacity: 2_000, refillPerSec: 500 };

export type SessionPrincipal = { sessionId: string; staffId: string; role: StaffRole };

export function createGuards(
  deps: GuardDeps,
  config: GuardConfig,
): Guards & {
  /** Any signed-in staff member (own account routes); CSRF enforced on writes. */
  session: MiddlewareHandler<AppEnv>;
} {
  const unauthorized = (what: string) =>
    new AppError('unauthorized', `Sign in first: this endpoint needs ${what}.`);
  const writeKeyRule = config.writeKeyRule ?? WRITE_KEY_RULE;

  async function fromSession(c: Context<AppEnv>): Promise<SessionPrincipal | null> {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return null;
    const s = await deps.sessions.authenticateSession(token);
    if (!s) throw new AppError('unauthorized', 'Your session has ended. Sign in again.');
    // Cookies ride along on cross-site requests; a write must also prove it came from our own page.
    if (!isSafeMethod(c.req.method) && !deps.sessions.checkCsrf(s.sessionId, c.req.header(CSRF_HEADER))) {
      throw new AppError(
        'csrf_failed',
        `Send the CSRF token you received at sign-in in the ${CSRF_HEADER} header.`,
      );
    }
    return s;
  }

  const staff =
    (permission: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const token = bearer(c);
      if (token?.startsWith('sk_')) {
        const key = await deps.keys.authenticateServerKey(token);
        if (!key)
          throw new AppError(
            'unauthorized',
            'This server key is unknown or revoked. Create a new one in the dashboard.',
          );
        if (!key.scopes.includes(permission)) {
          await deps.audit.record({
            actor: `key:${key.keyId}`,
            action: 'access.denied',
            outcome: 'denied',
            details: { permission, route: c.req.routePath },
          });
          throw new AppError('forbidden', `This server key lacks the '${permission}' scope.`);
        }
        c.set('principal', { kind: 'server_key', keyId: key.keyId, scopes: key.scopes });
        return next();
      }
      const s = await fromSession(c);
      if (!s) throw unauthorized('a staff session or a server key');
      if (!roleHas(s.role, permission)) {
        await deps.audit.record({
          actor: `staff:${s.staffId}`,
          action: 'access.denied',
          outcome: 'denied',
          details: { permission, role: s.role, route: c.req.routePath },
        });
        throw new AppError(
          'forbidden',
          `Your role (${s.role}) does not include the '${permission}' permission.`,
        );
      }
      c.set('principal', {
        kind: 'staff',
        staffId: s.staffId,
        role: s.role,
        sessionId: s.sessionId,
        apiKeyId: null,
      });
      return next();
    };

  const session: MiddlewareHandler<AppEnv> = async (c, next) => {
    const s = await fromSession(c);
    if (!s) throw unauthorized('a staff session');
    c.set('principal', {
      kind: 'staff',
      staffId: s.staffId,
      role: s.role,
      sessionId: s.sessionId,
      apiKeyId: null,
    });
    return next();
  };

  const shopper: MiddlewareHandler<AppEnv> = async (c, next) => {
    deps.abuse.notePublicRequest(ipKey(c, deps.pseudonymize));
    const token = bearer(c);
    if (!token || token.startsWith('sk_'))
      throw unauthorized('a shopper token (Authorization: Bearer …) from the shop');
    const userId = await verifyShopperToken(config.shopperTokenSecret, token, deps.clock.now().getTime());
    if (userId === null)
      throw new AppError(
        'unauthorized',
        'The shopper token is invalid or expired. Ask the shop for a new one.',
      );
    c.set('principal', { kind: 'shopper', userId, subjectId: deps.pseudonymize('user', userId) });
    return next();
  };

  async function writeKeyOf(c: Context<AppEnv>): Promise<string | null> {
    const auth = c.req.header('authorization');
    if (auth && /^Basic\s+/i.test(auth)) {
      const decoded = Buffer.from(auth.replace(/^Basic\s+/i, '').trim(), 'base64').toString('utf8');
      return decoded.split(':')[0] ?? null;
    }
    if (c.req.method === 'POST' || c.req.method === 'PUT') {
      try {
        // Parsed once and cached by Hono, so the route's own validator reads the same body.
        const body: unknown = await c.req.json();
        if (
          body &&
          typeof body === 'object' &&
          typeof (body as { writeKey?: unknown }).writeKey === 'string'
        ) {
          return (body as { writeKey: string }).writeKey;
        }
      } catch {
        return null;
      }
    }
    return null;
  }

  const writeKey: MiddlewareHandler<AppEnv> = async (c, next) => {
    deps.abuse.notePublicRequest(ipKey(c, deps.pseudonymize));
    const key = await writeKeyOf(c);
    if (!key) throw unauthorized("a source's write key (HTTP Basic user, or writeKey in the body)");
    const source = await deps.keys.authenticateWriteKey(key);
    if (!source)
      throw new AppError(
        'unauthorized',
        'This write key is unknown or expired. Copy the current key from the source settings.',
      );
    await deps.limiter.consume(WRITE_KEY_LIMIT, source.sourceId, writeKeyRule);
    deps.abuse.noteKeyRequest(source.sourceId);
    c.set('principal', { kind: 'source', sourceId: source.sourceId });
    return next();
  };

  return { staff, shopper, writeKey, session };
}
