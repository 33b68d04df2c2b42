import { defineConfig } from 'vitest/config';

// Server-mode suites: PostgreSQL (and NATS). .ci/run sets the URLs and checks the services first;
// the suites fail (never skip) when the URLs are missing.
export default defineConfig({
  test: {
    include: ['src/**/*.server.test.ts', 'test/**/*.server.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    allowOnly: false,
  },
});
