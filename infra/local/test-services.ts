/**
 * For integration suites: whether the real services are meant to be up in this test run.
 * `npm test` brings them up (vitest-global-setup.ts); `npm run test:unit` sets
 * CHAT_TEST_SERVICES=none, and the suites that need them skip themselves instead of failing.
 */
export const realServicesEnabled = process.env.CHAT_TEST_SERVICES !== 'none';
