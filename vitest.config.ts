import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.services/**'],
    // Real services for the integration suites are started once, before any test file.
    globalSetup: ['infra/local/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
