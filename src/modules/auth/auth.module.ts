import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../../kernel/clock.ts';
import type { KeyRing, Pseudonymizer } from '../../kernel/crypto.ts';
import type { AppEnv, Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createAbuseCounters } from './abuse-counters.ts';
import {
  ABUSE_WINDOW_CAPACITY,
  createAbuseDetector,
  DEFAULT_THRESHOLDS,
  type AbuseDetector,
  type AbuseThresholds,
} from './abuse.service.ts';
import { authRoutes } from './auth.routes.ts';
import { createAuthService, type AuthService, type AuthServiceConfig } from './auth.service.ts';
import type { AuditWriter } from './deps.ts';
import { createGuards, WRITE_KEY_LIMIT } from './guards.ts';
import { createKeysService, type KeysService } from './keys.service.ts';
import {
  createRateLimiter,
  createRateLimitStore,
  rateLimit,
  type RateLimiter,
  type RateLimitOptions,
  type RateLimitStore,
} from './rate-limit.ts';
import { mountRouteLimits } from './route-limits.ts';
import { authMigrations } from './store.ts';

export type AuthModuleDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  keyRing: KeyRing;
  pseudonymize: Pseudonymizer;
  audit: AuditWriter;
  /** Defaults to Redis when `redisUrl` is configured, else in-process buckets. */
  rateLimitStore?: RateLimitStore;
};

export type AuthModuleConfig = Omit<AuthServiceConfig, 'sessionSecret'> & {
  sessionSecret: string;
  shopperTokenSecret: string;
  redisUrl?: string | undefined;
  /** Overrides of route limits by bucket name (ROUTE_LIMITS, and WRITE_KEY_LIMIT for the per-key bucket). */
  rateLimits?: Readonly<Record<string, { capacity: number; refillPerSec: number }>>;
  abuse?: Partial<AbuseThresholds>;
};

export type AuthModule = CandorModule & {
  readonly service: AuthService;
  readonly keys: KeysService;
  readonly abuse: AbuseDetector;
  readonly limiter: RateLimiter;
  readonly guards: Guards & { session: MiddlewareHandler<AppEnv> };
  /** For ingestion: the source a public write key belongs to, or null. */
  authenticateWriteKey(key: string): Promise<{ sourceId: string } | null>;
  /** For modules serving personal data to staff: counts reads so bulk reading raises an alert. */
  notePiiRead(staffId: string, count?: number): void;
  /** A token-bucket middleware for other modules' routes (ingestion, DSAR, chatbot). */
  rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv>;
};

export function createAuthModule(deps: AuthModuleDeps, config: AuthModuleConfig): AuthModule {
  const store = deps.rateLimitStore ?? createRateLimitStore({ redisUrl: config.redisUrl });
  const limiter = createRateLimiter(store, deps.clock);
  // Several API processes share Redis (the same URL as the rate limits): each must see the others' notes.
  const counters = createAbuseCounters(
    { redisUrl: config.redisUrl },
    { windowMs: config.abuse?.windowMs ?? DEFAULT_THRESHOLDS.windowMs, capacity: ABUSE_WINDOW_CAPACITY },
  );
  const abuse = createAbuseDetector(
    { state: deps.state, clock: deps.clock, logger: deps.logger, audit: deps.audit, counters },
    config.abuse ?? {},
  );
  const service = createAuthService(
    {
      state: deps.state,
      clock: deps.clock,
      logger: deps.logger,
      keyRing: deps.keyRing,
      pseudonymize: deps.pseudonymize,
      audit: deps.audit,
      abuse,
      limiter,
    },
    config,
  );
  const keys = createKeysService({ state: deps.state, clock: deps.clock, audit: deps.audit });
  const guards = createGuards(
    {
      sessions: service,
      keys,
      pseudonymize: deps.pseudonymize,
      clock: deps.clock,
      audit: deps.audit,
      abuse,
      limiter,
    },
    { shopperTokenSecret: config.shopperTokenSecret, writeKeyRule: config.rateLimits?.[WRITE_KEY_LIMIT] },
  );
  return {
    name: 'auth',
    service,
    keys,
    abuse,
    limiter,
    guards,
    migrations: authMigrations,
    middleware: (router) =>
      mountRouteLimits(router, { limiter, pseudonymize: deps.pseudonymize }, config.rateLimits ?? {}),
    routes: (router) =>
      authRoutes(router, {
        auth: service,
        keys,
        abuse,
        guards,
        pseudonymize: deps.pseudonymize,
        absoluteTimeoutMs: config.absoluteTimeoutMs ?? 12 * 3600_000,
      }),
    authenticateWriteKey: keys.authenticateWriteKey,
    notePiiRead: (staffId, count) => abuse.notePiiRead(staffId, count),
    rateLimit: (options) => rateLimit(limiter, options),
    async stop() {
      await abuse.flush();
      await counters.close();
      await store.close();
    },
  };
}
