// Entry of worker threads that run TypeScript: Node 20 does not carry the main thread's module
// hooks into workers, so each worker registers tsx itself, then imports its real entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entryUrl);
