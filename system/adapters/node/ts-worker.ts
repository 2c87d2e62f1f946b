import { Worker } from 'node:worker_threads';

/** Starts a worker thread running a TypeScript module; `data` reaches it as workerData.data. */
export function startTsWorker(entryUrl: URL, data: unknown): Worker {
  return new Worker(new URL('./ts-worker-boot.mjs', import.meta.url), {
    workerData: { entryUrl: entryUrl.href, data },
  });
}
