import { testEnv } from '../../kernel/config.ts';
import { rateLimitStoreContract } from './rate-limit.contract.ts';
import { createRedisRateLimitStore } from './rate-limit.ts';

const url = testEnv().redisUrl ?? 'redis://127.0.0.1:6379';

// Each store gets a unique prefix so parallel runs never share buckets.
rateLimitStoreContract('redis', async () =>
  createRedisRateLimitStore(url, { prefix: `candor-test:${process.pid}:${Date.now()}:` }),
);
