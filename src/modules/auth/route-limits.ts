/**
 * Token-bucket limits on other modules' abuse-prone public endpoints (DSAR submission and code entry,
 * ingestion, the chatbot), kept in one table so the whole abuse policy reads in one place. They are
 * mounted before any route (CandorModule.middleware), so a flood is refused before authentication,
 * body validation or any store is touched. Sign-in, codes and password reset are limited inside the auth
 * service itself (per IP and per account); write keys also have a per-key bucket in the writeKey guard
 * (`ingest.key` in config `rateLimits`).
 *
 * Per-IP buckets key on an HMAC pseudonym of the peer address. Forwarded headers are not trusted, so
 * behind a reverse proxy every request shares the proxy's bucket: the ingestion rule is generous for that
 * reason, and every rule can be tuned by name in config (`rateLimits`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { AppEnv, Router } from '../../kernel/http.ts';
import type { BucketRule, RateLimiter } from './rate-limit.ts';
import { ipKey } from './request.ts';

export type RouteLimit = {
  /** Bucket family; also the key for overrides in config `rateLimits`. */
  name: string;
  method: 'POST' | 'GET' | 'PUT' | 'DELETE';
  /** Hono path patterns. */
  paths: readonly string[];
  rule: BucketRule;
  /** `ip`: one bucket per client address; `param:id`: one bucket per object id in the path. */
  by: 'ip' | 'param:id';
};

const INGEST_PATHS = [
  '/v1/track',
  '/v1/page',
  '/v1/identify',
  '/v1/alias',
  '/v1/batch',
  '/v1/events',
  '/v1/consent',
  '/v1/webhooks/*',
] as const;

const CHAT_PATHS = ['/v1/chat/messages', '/v1/me/chat/messages'] as const;

export const ROUTE_LIMITS: readonly RouteLimit[] = [
  // A DSAR request sends an e-mail: a few per hour per address is plenty for a person.
  {
    name: 'dsar.submit.ip',
    method: 'POST',
    paths: ['/v1/privacy/requests'],
    by: 'ip',
    rule: { capacity: 10, refillPerSec: 10 / 3600 },
  },
  // One-time codes are short: guessing is limited per address and per request (the service also locks a
  // request after too many wrong codes).
  {
    name: 'dsar.verify.ip',
    method: 'POST',
    paths: ['/v1/privacy/requests/:id/verify'],
    by: 'ip',
    rule: { capacity: 20, refillPerSec: 20 / 900 },
  },
  {
    name: 'dsar.verify.request',
    method: 'POST',
    paths: ['/v1/privacy/requests/:id/verify'],
    by: 'param:id',
    rule: { capacity: 10, refillPerSec: 10 / 3600 },
  },
  // Ingestion: bursts of a busy shop's server-side tracking (one server sending for many shoppers) pass.
  {
    name: 'ingest.ip',
    method: 'POST',
    paths: INGEST_PATHS,
    by: 'ip',
    rule: { capacity: 20_000, refillPerSec: 2_000 },
  },
  // Every chat message runs NLU and may query the catalogue: a person types far slower than this.
  {
    name: 'chat.ip',
    method: 'POST',
    paths: CHAT_PATHS,
    by: 'ip',
    rule: { capacity: 60, refillPerSec: 1 },
  },
];

export type RouteLimitDeps = { limiter: RateLimiter; pseudonymize: Pseudonymizer };

function keyOf(c: Context<AppEnv>, limit: RouteLimit, pseudonymize: Pseudonymizer): string | null {
  if (limit.by === 'ip') return ipKey(c, pseudonymize);
  const id = c.req.param('id');
  // Ids are bounded by the route's own validation; an absent one falls to that validation.
  return id ? pseudonymize('route-id', id.slice(0, 200)) : null;
}

/** The effective rule of a limit: the table's, unless config overrides it by name. */
export function ruleOf(limit: RouteLimit, overrides: Readonly<Record<string, BucketRule>> = {}): BucketRule {
  return overrides[limit.name] ?? limit.rule;
}

export function mountRouteLimits(
  router: Router,
  deps: RouteLimitDeps,
  overrides: Readonly<Record<string, BucketRule>> = {},
): void {
  for (const limit of ROUTE_LIMITS) {
    const rule = ruleOf(limit, overrides);
    const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
      if (c.req.method === limit.method) {
        const key = keyOf(c, limit, deps.pseudonymize);
        if (key !== null) {
          const r = await deps.limiter.consume(limit.name, key, rule);
          c.header('RateLimit-Remaining', String(r.remaining));
        }
      }
      await next();
    };
    for (const path of limit.paths) router.use(path, middleware);
  }
}
