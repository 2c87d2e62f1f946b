import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.services/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
