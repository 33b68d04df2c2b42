import { describe, expect, it } from 'vitest';
import { testEnv } from '../../kernel/config.ts';
import { rateLimitStoreContract } from './rate-limit.contract.ts';
import { createRedisRateLimitStore } from './rate-limit.ts';

const url = testEnv().redisUrl ?? 'redis://127.0.0.1:6379';

// Each store gets a unique prefix so parallel runs never share buckets.
rateLimitStoreContract('redis', async () =>
  createRedisRateLimitStore(url, { prefix: `candor-test:${process.pid}:${Date.now()}:` }),
);

describe('rate limits with Redis away', () => {
  it('refuse with unavailable (503, Retry-After) instead of failing open or with an internal error', async () => {
    // Nothing listens on port 1.
    const store = createRedisRateLimitStore('redis://127.0.0.1:1', { prefix: 'candor-test:away:' });
    const started = Date.now();
    await expect(store.take('k', { capacity: 3, refillPerSec: 1 }, 0)).rejects.toMatchObject({
      code: 'unavailable',
      retryAfter: 5,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
  });
});
