import { installK6Globals, setK6Iteration } from './k6-globals.js';
import { openSocketCount } from './k6-websockets.js';

/** The parts of a k6 script module the runner calls. */
export interface K6ScriptModule {
  options?: unknown;
  setup?: () => unknown;
  default: (data: unknown) => unknown;
}

export interface K6IterationRun<Module extends K6ScriptModule> {
  script: Module;
  setupData: unknown;
}

/** How long an iteration's sockets may stay open after its function returned. */
const SOCKETS_DRAIN_TIMEOUT_MS = 10_000;
const SOCKETS_POLL_MS = 5;

async function socketsClosed(): Promise<void> {
  const deadline = Date.now() + SOCKETS_DRAIN_TIMEOUT_MS;
  while (openSocketCount() > 0) {
    if (Date.now() > deadline)
      throw new Error(`${openSocketCount()} WebSocket(s) still open ${SOCKETS_DRAIN_TIMEOUT_MS} ms after the iteration`);
    await new Promise((resolve) => setTimeout(resolve, SOCKETS_POLL_MS));
  }
}

/**
 * Runs a k6 script's lifecycle on Node, one VU: the init context (the import, with the globals set
 * first), setup(), then `iterations` calls of the default function, each ending, as in k6, once its
 * promise settles and its sockets are closed. Only the k6 modules the adapter implements resolve:
 * the caller maps them (vi.mock in tests).
 */
export async function runK6Iterations<Module extends K6ScriptModule>(
  importScript: () => Promise<Module>,
  options: { env: Record<string, string>; iterations: number },
): Promise<K6IterationRun<Module>> {
  installK6Globals(options.env);
  const script = await importScript();
  const setupData = script.setup ? await script.setup() : undefined;
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    setK6Iteration(1, iteration);
    await script.default(setupData);
    await socketsClosed();
  }
  return { script, setupData };
}
