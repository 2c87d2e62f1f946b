import { startServerThread, type ServerThread } from '../system/demo/server-thread.js';
import { EMBEDDED_DEV_SECRET } from '../system/worlds/embedded-world.js';
import { LoadError, LoadErrorCodes } from './errors.js';

export interface EmbeddedTarget {
  wsUrl: string;
  httpUrl: string;
  /** The embedded world signs tokens with its development secret. */
  tokenSecret: string;
  stop(): Promise<void>;
}

/**
 * The reference system on the embedded default, in a worker thread of this process (its own
 * event loop, so the virtual clients on the main thread do not stall it): the same server
 * `npm start` runs.
 */
export async function startEmbeddedTarget(): Promise<EmbeddedTarget> {
  let server: ServerThread;
  try {
    server = await startServerThread({ port: 0 });
  } catch (error) {
    throw new LoadError(LoadErrorCodes.EMBEDDED_START_FAILED, `could not start the embedded system: ${(error as Error).message}`);
  }
  return { wsUrl: server.wsUrl, httpUrl: server.httpUrl, tokenSecret: EMBEDDED_DEV_SECRET, stop: () => server.stop() };
}
