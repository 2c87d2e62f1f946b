// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Core and service code must be deterministic so the simulator can run it in virtual time:
 * no ambient clock, timers, randomness, sockets or files. Those come in through ports
 * (Clock, Random, stores, Connection). Adapters, composition roots, the gateway's socket layer,
 * tools and tests are exempt.
 */
// The client core (sdk/core, with the ordering and backoff it uses) is held to the same rule: the
// SDK runs it on real sockets and timers, the simulator's virtual devices in virtual time.
const deterministicCore = [
  'system/core/**/*.ts',
  'system/services/**/*.ts',
  'system/protocol/**/*.ts',
  'system/ports/**/*.ts',
  'checker/**/*.ts',
  'system/gateway/session*.ts',
  'sdk/core/**/*.ts',
  'sdk/ordering.ts',
  'sdk/backoff.ts',
];

/*
 * `system/` holds the server alone. Its clients and tools (the SDK, the load driver, the simulator)
 * build on it, never the other way round: end-to-end tests live in `e2e/`, benchmarks in
 * `load/bench/`, the simulator's workload in `simulator/`. Tests inside `system/` may use the SDK.
 */
const serverFiles = ['system/**/*.ts'];
const toolImports = [
  {
    group: ['**/sdk/**', '**/load/**', '**/simulator/**'],
    message: 'system/ holds the server: it imports nothing from sdk/, load/ or simulator/ (tests excepted).',
  },
];

const bannedIo = [
  'net',
  'node:net',
  'dgram',
  'node:dgram',
  'http',
  'node:http',
  'https',
  'node:https',
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'ws',
  'tls',
  'node:tls',
  'child_process',
  'node:child_process',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.services/**', 'coverage/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: serverFiles,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: toolImports }],
    },
  },
  {
    files: deterministicCore,
    // Contract suites are test support: they start HTTP servers and draw random ids on purpose.
    ignores: ['**/*.test.ts', 'system/ports/contracts/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use the Clock port (clock.setTimer).' },
        { name: 'setInterval', message: 'Use the Clock port (clock.setTimer).' },
        { name: 'setImmediate', message: 'Core code must not schedule on the real event loop.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the Clock port (clock.nowMs()).' },
        { object: 'Math', property: 'random', message: 'Use the Random port.' },
        { object: 'crypto', property: 'randomUUID', message: 'Use the Random port.' },
        { object: 'crypto', property: 'randomBytes', message: 'Use the Random port.' },
        { object: 'globalThis', property: 'setTimeout', message: 'Use the Clock port.' },
        { object: 'performance', property: 'now', message: 'Use the Clock port.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'new Date() reads ambient time: use the Clock port.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: bannedIo.map((name) => ({ name, message: 'Core code does no I/O: go through a port.' })),
          // This block's rule replaces the one above for these files, so the server rule is repeated.
          patterns: [{ group: ['**/adapters/**'], message: 'Core code depends on ports, never on adapters.' }, ...toolImports],
        },
      ],
    },
  },
);
