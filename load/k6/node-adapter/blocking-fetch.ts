import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/*
 * k6's http.post() returns the response synchronously. Node's fetch is asynchronous, so the request
 * runs on a helper thread while this one waits on a shared flag, then takes the answer off a
 * message port synchronously. The embedded server runs on its own thread, so nothing it needs is
 * blocked meanwhile.
 */

export interface BlockingRequest {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface BlockingResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** Set when the request failed before any answer (k6 then reports status 0 and an error). */
  error?: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, flag } = workerData;
port.on('message', async (request) => {
  let answer;
  try {
    const response = await fetch(request.url, { method: request.method, body: request.body, headers: request.headers, signal: AbortSignal.timeout(${REQUEST_TIMEOUT_MS}) });
    answer = { status: response.status, body: await response.text(), headers: Object.fromEntries(response.headers) };
  } catch (error) {
    answer = { status: 0, body: '', headers: {}, error: String(error) };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface FetchThread {
  port: MessagePort;
  flag: Int32Array;
}

let thread: FetchThread | null = null;

function fetchThread(): FetchThread {
  if (thread) return thread;
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  thread = { port: port1, flag };
  return thread;
}

export function blockingFetch(request: BlockingRequest): BlockingResponse {
  const { port, flag } = fetchThread();
  Atomics.store(flag, 0, 0);
  port.postMessage(request);
  // The helper answers within its own timeout; the margin covers its start-up on a busy machine.
  const waited = Atomics.wait(flag, 0, 0, REQUEST_TIMEOUT_MS + 5_000);
  const received = receiveMessageOnPort(port);
  if (waited === 'timed-out' || !received) return { status: 0, body: '', headers: {}, error: `no answer from ${request.url}` };
  return received.message as BlockingResponse;
}
