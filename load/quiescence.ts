import type { ChatClient } from '../sdk/index.js';

const POLL_INTERVAL_MS = 250;
/** Devices asked at once; each answer is one `conversations` request. */
const CHECK_CONCURRENCY = 64;

export interface QuiescenceResult {
  quiesced: boolean;
  /** Devices still behind (or with unacknowledged sends) at the last check. */
  behind: number;
  waitedMs: number;
  /** A few of the devices still behind, for the summary: which conversation, cursor and last seq. */
  examples: string[];
}

/** Devices described in `examples` at most. */
const EXAMPLES_MAX = 5;

/**
 * Quiescent: no client has an unacknowledged send, and every device's cursor has reached the
 * last seq of every conversation the server lists for its user. One `conversations` request per
 * device and check, so it holds for any target speaking the protocol and stays cheap for
 * thousands of devices. A group the user was removed from (live.membership_changes) is left
 * out: nothing after the removal is theirs to read, so their cursor stays below its last seq.
 */
export interface SettlingDevice {
  client: ChatClient;
  /** Conversations this device has sent to (its app knows them even without a cursor). */
  sentTo: ReadonlySet<string>;
  /** Whether the device's user was removed from this group (and not added back). */
  removedFrom?: (conversationId: string) => boolean;
}

export async function waitForQuiescence(
  devices: readonly SettlingDevice[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<QuiescenceResult> {
  const clients = devices.map((d) => d.client);
  const started = performance.now();
  let state = { behind: clients.length, examples: [] as string[] };
  for (;;) {
    const pending = clients.filter((c) => c.pendingSendCount > 0);
    state =
      pending.length > 0
        ? {
            behind: pending.length,
            examples: pending.slice(0, EXAMPLES_MAX).map((c) => `${c.userId}/${c.deviceId}: ${c.pendingSendCount} unacknowledged send(s)`),
          }
        : await countBehind(devices);
    if (state.behind === 0) return { quiesced: true, behind: 0, waitedMs: performance.now() - started, examples: [] };
    if (performance.now() - started >= timeoutMs || signal?.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return { quiesced: false, ...state, waitedMs: performance.now() - started };
}

async function countBehind(devices: readonly SettlingDevice[]): Promise<{ behind: number; examples: string[] }> {
  let next = 0;
  let behind = 0;
  const examples: string[] = [];
  const worker = async () => {
    while (next < devices.length) {
      const device = devices[next++]!;
      const client = device.client;
      const lag = await lagOf(device);
      if (lag === undefined) continue;
      behind++;
      if (examples.length < EXAMPLES_MAX) examples.push(`${client.userId}/${client.deviceId}: ${lag}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, devices.length) }, worker));
  return { behind, examples };
}

/**
 * Why the device is behind, or undefined when it is caught up. One case is the app's to repair,
 * not the system's: a send whose ack was lost when our churn closed the client. The server stored
 * it but never echoes a device's own message back, and a client without a cursor for that
 * conversation does not sync it — a real app knows its outgoing message and would, so the driver
 * syncs such conversations (only those this device sent to; any other missing event stays a lag).
 */
async function lagOf(device: SettlingDevice): Promise<string | undefined> {
  const client = device.client;
  try {
    const conversations = await client.conversations();
    const lagging = conversations.filter(
      (c) => (client.getCursor(c.conversationId) ?? 0) < c.lastSeq && !device.removedFrom?.(c.conversationId),
    );
    for (const c of lagging) {
      if (client.getCursor(c.conversationId) === undefined && device.sentTo.has(c.conversationId)) await client.sync(c.conversationId, 0);
    }
    const first = lagging[0];
    return first
      ? `${first.conversationId} cursor ${client.getCursor(first.conversationId) ?? 'none'} < last seq ${first.lastSeq}`
      : undefined;
  } catch (error) {
    return `conversations request failed: ${(error as Error).message}`;
  }
}
