import { defineConfig } from 'vitest/config';

// `npm test`: everything that needs no server. Server-mode suites live in *.server.test.ts and run
// from vitest.server.config.ts when CANDOR_TEST_PG_URL / CANDOR_TEST_NATS_URL are set.
export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'test/**/*.test.ts',
      'sdk/**/*.test.ts',
      'bench/**/*.test.ts',
      'web/**/*.test.ts',
    ],
    exclude: ['**/*.server.test.ts', 'node_modules/**', '.tools/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    allowOnly: false,
  },
});
