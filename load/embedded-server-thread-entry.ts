/**
 * Worker-thread side of the embedded target (embedded-server-thread.ts): the embedded system on
 * its own event loop, so the hundreds of virtual clients on the main thread do not stall it (in
 * production they would be on other machines).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedServer } from '../system/worlds/embedded-server.js';
import type { ServerThreadReply, ServerThreadRequest } from './embedded-server-thread.js';

const options = (workerData as { data: { port: number } }).data;
const server = await startEmbeddedServer({ port: options.port });
const port = parentPort!;
port.postMessage({ type: 'ready', wsUrl: server.wsUrl, httpUrl: server.httpUrl } satisfies ServerThreadReply);
port.on('message', (request: ServerThreadRequest) => {
  if (request.type === 'stats') {
    port.postMessage({
      type: 'stats',
      pushesRecorded: server.world.push.sent.length,
      connections: server.world.node.sessionCount,
    } satisfies ServerThreadReply);
  } else if (request.type === 'stop') {
    void server.close().then(() => port.postMessage({ type: 'stopped' } satisfies ServerThreadReply));
  }
});
