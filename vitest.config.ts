import { defineConfig } from 'vitest/config';

/** Suites that need the real services; `npm run test:unit` (CHAT_TEST_SERVICES=none) leaves them out. */
const REAL_SERVICE_SUITES = [
  'system/adapters/cassandra/*.{contract,integration}.test.ts',
  'system/adapters/cassandra/cassandra-confidentiality.test.ts',
  'system/adapters/redis/**',
  'system/adapters/s3/**',
  'system/cluster/**',
  'chaos/**/*.integration.test.ts',
  'load/**/*.integration.test.ts',
  'dashboards/**/*.integration.test.ts',
];
const withoutServices = process.env.CHAT_TEST_SERVICES === 'none';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.services/**', ...(withoutServices ? REAL_SERVICE_SUITES : [])],
    // Real services for the integration suites are started once, before any test file.
    globalSetup: ['infra/local/vitest-global-setup.ts', 'chaos/proxy/vitest-global-setup.ts'],
    setupFiles: ['vitest.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
