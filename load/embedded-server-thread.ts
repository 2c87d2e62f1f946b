import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../system/adapters/node/ts-worker.js';

export type ServerThreadRequest = { type: 'stats' } | { type: 'stop' };
export type ServerThreadReply =
  { type: 'ready'; wsUrl: string; httpUrl: string } | { type: 'stats'; pushesRecorded: number; connections: number } | { type: 'stopped' };

export interface ServerThread {
  wsUrl: string;
  httpUrl: string;
  stats(): Promise<{ pushesRecorded: number; connections: number }>;
  /** Graceful close of the server, then the thread ends. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/** The embedded system in a worker thread of this process. */
export async function startServerThread(options: { port: number }): Promise<ServerThread> {
  const worker = startTsWorker(new URL('./embedded-server-thread-entry.ts', import.meta.url), options);
  const next = <T extends ServerThreadReply['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<ServerThreadReply, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server thread sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (reply: ServerThreadReply) => {
        if (reply.type !== type) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolve(reply as Extract<ServerThreadReply, { type: T }>);
      };
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  const ready = await next('ready', READY_TIMEOUT_MS);
  return {
    wsUrl: ready.wsUrl,
    httpUrl: ready.httpUrl,
    async stats() {
      const reply = next('stats', 5_000);
      post(worker, { type: 'stats' });
      const { pushesRecorded, connections } = await reply;
      return { pushesRecorded, connections };
    },
    async stop() {
      const stopped = next('stopped', 15_000);
      post(worker, { type: 'stop' });
      await stopped.catch(() => undefined);
      await worker.terminate();
    },
  };
}

function post(worker: Worker, request: ServerThreadRequest): void {
  worker.postMessage(request);
}
