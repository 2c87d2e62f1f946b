/**
 * Builds toxiproxy once before the test files run (the chaos integration suites use it), so a
 * fresh machine or CI clone pays the `go install` once, bounded by TOXIPROXY_INSTALL_TIMEOUT_MS,
 * instead of inside a test's own time limit. Skipped when no real-service suites run.
 */
import { ensureToxiproxy } from './toxiproxy-install.js';

export default async function setup(): Promise<void> {
  if (process.env.CHAT_TEST_SERVICES === 'none') return;
  const startedMs = Date.now();
  const binary = await ensureToxiproxy((line) => process.stderr.write(`chaos: ${line}\n`));
  process.stderr.write(`chaos: toxiproxy ready (${binary}) in ${((Date.now() - startedMs) / 1000).toFixed(1)} s\n`);
}
