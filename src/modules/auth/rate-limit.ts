/**
 * Token-bucket rate limits. A bucket holds `capacity` tokens and refills at `refillPerSec`; a request
 * takes one (or `cost`) and is refused with 429 + Retry-After when the bucket is empty. Buckets live in
 * the process (one API process) or in Redis (several processes share one view), behind one interface
 * that both pass the same tests. Keys are pseudonymous (an IP pseudonym, a staff id, a key id).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { Redis } from 'ioredis';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AppEnv } from '../../kernel/http.ts';

export type BucketRule = { capacity: number; refillPerSec: number };
export type TakeResult = { allowed: boolean; remaining: number; retryAfterSec: number };

export type RateLimitStore = {
  /** Takes `cost` tokens from the bucket `key` at time `nowMs` (atomic per key). */
  take(key: string, rule: BucketRule, nowMs: number, cost?: number): Promise<TakeResult>;
  /** Empties nothing, forgets the bucket (a fresh, full one next time). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
};

function retryAfter(missing: number, rule: BucketRule): number {
  return Math.max(1, Math.ceil(missing / rule.refillPerSec));
}

export function createMemoryRateLimitStore(options: { maxKeys?: number } = {}): RateLimitStore {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    async take(key, rule, nowMs, cost = 1) {
      const b = buckets.get(key);
      let tokens = rule.capacity;
      if (b)
        tokens = Math.min(rule.capacity, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * rule.refillPerSec);
      const allowed = tokens >= cost;
      if (allowed) tokens -= cost;
      // Insertion order doubles as an LRU so a flood of distinct keys cannot grow memory without bound.
      buckets.delete(key);
      buckets.set(key, { tokens, at: nowMs });
      if (buckets.size > maxKeys) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      return {
        allowed,
        remaining: Math.floor(tokens),
        retryAfterSec: allowed ? 0 : retryAfter(cost - tokens, rule),
      };
    },
    async reset(key) {
      buckets.delete(key);
    },
    async close() {
      buckets.clear();
    },
  };
}

/** One round trip, atomic: refill, take, store, expire when the bucket would be full again. */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = capacity
if b[1] then
  local elapsed = math.max(0, now - tonumber(b[2]))
  tokens = math.min(capacity, tonumber(b[1]) + elapsed / 1000 * rate)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
`;

export function createRedisRateLimitStore(url: string, options: { prefix?: string } = {}): RateLimitStore {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  // A lost connection fails the commands waiting on it (answered below); the client's own error events
  // would only repeat that on every reconnection attempt.
  redis.on('error', () => undefined);
  const prefix = options.prefix ?? 'candor:rl:';
  return {
    async take(key, rule, nowMs, cost = 1) {
      let reply: [number, string];
      try {
        reply = (await redis.eval(
          TAKE_SCRIPT,
          1,
          prefix + key,
          rule.capacity,
          rule.refillPerSec,
          nowMs,
          cost,
        )) as [number, string];
      } catch (cause) {
        // Refused rather than let through: sign-in, code entry and DSAR limits must not lapse while
        // Redis is away. Clients (the SDK too) retry a 503 after Retry-After.
        throw new AppError(
          'unavailable',
          'Request limits cannot be checked right now (the shared limit store is unreachable). Retry in a few seconds.',
          { retryAfter: 5, cause },
        );
      }
      const [allowed, tokensText] = reply;
      const tokens = Number(tokensText);
      return {
        allowed: allowed === 1,
        remaining: Math.floor(tokens),
        retryAfterSec: allowed === 1 ? 0 : retryAfter(cost - tokens, rule),
      };
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Redis when a URL is configured (several API processes), the in-process store otherwise. */
export function createRateLimitStore(config: { redisUrl?: string | undefined }): RateLimitStore {
  return config.redisUrl ? createRedisRateLimitStore(config.redisUrl) : createMemoryRateLimitStore();
}

export type RateLimiter = {
  /** Throws 429 rate_limited (with Retry-After) when the bucket `name:key` is empty. */
  consume(name: string, key: string, rule: BucketRule, cost?: number): Promise<TakeResult>;
  check(name: string, key: string, rule: BucketRule, cost?: number): Promise<TakeResult>;
  reset(name: string, key: string): Promise<void>;
};

export function createRateLimiter(store: RateLimitStore, clock: Clock): RateLimiter {
  const check = (name: string, key: string, rule: BucketRule, cost = 1) =>
    store.take(`${name}:${key}`, rule, clock.now().getTime(), cost);
  return {
    check,
    async consume(name, key, rule, cost = 1) {
      const r = await check(name, key, rule, cost);
      if (!r.allowed) {
        throw new AppError('rate_limited', `Too many requests. Wait ${r.retryAfterSec} s and retry.`, {
          retryAfter: r.retryAfterSec,
        });
      }
      return r;
    },
    reset: (name, key) => store.reset(`${name}:${key}`),
  };
}

export type RateLimitOptions = BucketRule & {
  /** Bucket family, e.g. `ingest.key`, `dsar.ip`. */
  name: string;
  /** The bucket for this request, or null to let it through unlimited. */
  key(c: Context<AppEnv>): string | null | Promise<string | null>;
};

/**
 * Reusable middleware: one bucket per key (IP pseudonym, principal, write key). Answers 429 with
 * Retry-After when empty; sets RateLimit-Remaining otherwise.
 */
export function rateLimit(limiter: RateLimiter, options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const rule = { capacity: options.capacity, refillPerSec: options.refillPerSec };
  return async (c, next) => {
    const key = await options.key(c);
    if (key !== null) {
      const r = await limiter.consume(options.name, key, rule);
      c.header('RateLimit-Remaining', String(r.remaining));
    }
    await next();
  };
}
