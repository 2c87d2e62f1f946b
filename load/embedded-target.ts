import { EMBEDDED_DEV_SECRET } from '../system/worlds/embedded-world.js';
import { startServerThread, type ServerThread } from './embedded-server-thread.js';
import { LoadErrorCodes } from './error-codes.js';
import { ToolError } from '../cli/tool-error.js';

export interface EmbeddedTarget {
  wsUrl: string;
  httpUrl: string;
  /** The embedded world signs tokens with its development secret. */
  tokenSecret: string;
  /** What the embedded world recorded that no client sees: pushes sent to its (recording) push sender. */
  stats(): Promise<{ pushesRecorded: number; connections: number }>;
  stop(): Promise<void>;
}

/**
 * The reference system on the embedded default, in a worker thread of this process (its own
 * event loop, so the virtual clients on the main thread do not stall it). `port` 0 (the default)
 * takes a free one; `/dev/token` is served, so clients of your own can join it (`--serve`).
 */
export async function startEmbeddedTarget(options: { port?: number } = {}): Promise<EmbeddedTarget> {
  let server: ServerThread;
  try {
    server = await startServerThread({ port: options.port ?? 0 });
  } catch (error) {
    throw new ToolError(LoadErrorCodes.EMBEDDED_START_FAILED, `could not start the embedded system: ${(error as Error).message}`);
  }
  return {
    wsUrl: server.wsUrl,
    httpUrl: server.httpUrl,
    tokenSecret: EMBEDDED_DEV_SECRET,
    stats: () => server.stats(),
    stop: () => server.stop(),
  };
}
