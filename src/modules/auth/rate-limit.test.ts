import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { rateLimitStoreContract } from './rate-limit.contract.ts';
import { createMemoryRateLimitStore, createRateLimiter } from './rate-limit.ts';

rateLimitStoreContract('memory', async () => createMemoryRateLimitStore());

describe('rate limiter', () => {
  it('throws rate_limited with retryAfter once the bucket is empty', async () => {
    const clock = fixedClock('2025-01-01T00:00:00Z');
    const limiter = createRateLimiter(createMemoryRateLimitStore(), clock);
    const rule = { capacity: 2, refillPerSec: 0.5 };
    await limiter.consume('x', 'k', rule);
    await limiter.consume('x', 'k', rule);
    await expect(limiter.consume('x', 'k', rule)).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfter: 2,
    });
    clock.advance(2_000);
    await expect(limiter.consume('x', 'k', rule)).resolves.toMatchObject({ allowed: true });
  });

  it('bounds memory under a flood of distinct keys', async () => {
    const store = createMemoryRateLimitStore({ maxKeys: 10 });
    for (let i = 0; i < 100; i++) await store.take(`k${i}`, { capacity: 1, refillPerSec: 1 }, 0);
    // The oldest were evicted, so k0 starts with a full bucket again; the newest is still empty.
    expect((await store.take('k0', { capacity: 1, refillPerSec: 0.001 }, 0)).allowed).toBe(true);
    expect((await store.take('k99', { capacity: 1, refillPerSec: 0.001 }, 0)).allowed).toBe(false);
  });
});
