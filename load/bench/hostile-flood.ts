import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../system/adapters/node/ts-worker.js';

export interface FloodSetup {
  wsUrl: string;
  /** One token per hostile client. */
  tokens: string[];
}

export type FloodRequest = { type: 'start' } | { type: 'stop' };

export interface FloodStats {
  framesSent: number;
  bytesSent: number;
  /** What the server answered, by frame type (`error <CODE>` for errors). */
  answers: Record<string, number>;
  /** Close codes of hostile connections the server closed. */
  closedCodes: number[];
}

export type FloodReply = { type: 'ready'; frameKinds: number } | ({ type: 'stopped' } & FloodStats);

export interface HostileFlood {
  /** How many distinct hostile frames each client cycles through. */
  frameKinds: number;
  start(): void;
  stop(): Promise<FloodStats>;
}

const READY_TIMEOUT_MS = 30_000;

/** Hostile clients, connected and authenticated on their own thread, flooding once started. */
export async function startHostileFlood(setup: FloodSetup): Promise<HostileFlood> {
  const worker = startTsWorker(new URL('./hostile-flood-thread.ts', import.meta.url), setup);
  const ready = await nextReply(worker, 'ready', READY_TIMEOUT_MS);
  return {
    frameKinds: ready.frameKinds,
    start: () => worker.postMessage({ type: 'start' } satisfies FloodRequest),
    async stop() {
      const stopped = nextReply(worker, 'stopped', 10_000);
      worker.postMessage({ type: 'stop' } satisfies FloodRequest);
      const { type: _type, ...stats } = await stopped;
      await worker.terminate();
      return stats;
    },
  };
}

function nextReply<T extends FloodReply['type']>(worker: Worker, type: T, timeoutMs: number): Promise<Extract<FloodReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hostile flood thread sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (reply: FloodReply) => {
      if (reply.type !== type) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      resolve(reply as Extract<FloodReply, { type: T }>);
    };
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
  });
}
