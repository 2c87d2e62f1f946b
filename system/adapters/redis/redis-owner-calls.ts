/**
 * Requests between gateway nodes over Redis pub/sub: a node forwards a send (or a group change,
 * or a logged send's replay) to the node that owns the conversation, which carries it out and
 * publishes the answer back. Each node listens on its own channel `owner:{nodeId}` for both.
 *
 * Order: one node's requests to another leave over its single command connection and arrive in
 * publish order, and the owner enters the conversation's serializer in arrival order, so one
 * connection's sends keep their order.
 *
 * At most once from the asker's view: a request whose answer does not come within
 * ownerCallTimeoutMs fails with STORAGE_UNAVAILABLE, although the owner may still carry it out.
 * Sends are idempotent (the client's message id), so the asker may log or retry it.
 */
import { ChatError, ErrorCodes, type ErrorCode } from '../../core/errors.js';
import { CheckedSendNotStored, NotOwnerError, type OwnerCall } from '../../ports/conversation-owners.js';
import type { Logger } from '../../ports/logger.js';
import { storageCall, type Redis, type RedisKeys } from './redis-client.js';
import type { SubscriberHub, Subscription } from './subscriber-hub.js';

type Request = { t: 'q'; id: number; from: string; call: OwnerCall };
type FailureBody = { code: string; message: string; retryable: boolean; notOwner?: string; checked?: true };
type Reply = { t: 'r'; id: number; ok: true; value: unknown } | { t: 'r'; id: number; ok: false; error: FailureBody };

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

export class RedisOwnerCalls {
  private subscription: Subscription | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly redis: Redis,
    private readonly hub: SubscriberHub,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Listens for requests (handled by `handle`) and answers; resolves once subscribed. */
  async start(handle: (call: OwnerCall) => Promise<unknown>): Promise<void> {
    this.subscription ??= this.hub.subscribe(this.keys.ownerChannel(this.nodeId), (message) => this.receive(message, handle));
    await this.subscription.ready;
  }

  call(nodeId: string, call: OwnerCall): Promise<unknown> {
    const id = this.nextId++;
    const request: Request = { t: 'q', id, from: this.nodeId, call };
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ChatError('STORAGE_UNAVAILABLE', `gateway ${nodeId} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      storageCall('owner call publish', () => this.redis.publish(this.keys.ownerChannel(nodeId), JSON.stringify(request))).then(
        (receivers) => {
          // Nobody listening: the node is gone; fail now rather than at the timeout.
          if (receivers === 0)
            this.settle(id, {
              t: 'r',
              id,
              ok: false,
              error: { code: 'STORAGE_UNAVAILABLE', message: `gateway ${nodeId} is not listening`, retryable: true },
            });
        },
        (error: unknown) => this.fail(id, error),
      );
    });
  }

  /** Stops listening; requests still waiting fail with SHUTTING_DOWN. */
  stop(): void {
    this.subscription?.release();
    this.subscription = undefined;
    for (const id of [...this.waiting.keys()]) this.fail(id, new ChatError('SHUTTING_DOWN', 'this gateway is shutting down'));
  }

  private receive(message: string, handle: (call: OwnerCall) => Promise<unknown>): void {
    let parsed: Request | Reply;
    try {
      parsed = JSON.parse(message) as Request | Reply;
    } catch {
      this.logger.warn('owner channel dropped a malformed message', { nodeId: this.nodeId });
      return;
    }
    if (parsed.t === 'r') {
      this.settle(parsed.id, parsed);
      return;
    }
    const { id, from, call } = parsed;
    // A handler that throws synchronously (a refusal before its first await) still gets an answer.
    Promise.resolve()
      .then(() => handle(call))
      .then(
        (value) => this.answer(from, { t: 'r', id, ok: true, value: value ?? null }),
        (error: unknown) => {
          if (!(error instanceof ChatError) && !(error instanceof NotOwnerError)) {
            this.logger.error('forwarded request failed', { from, kind: call.kind, error: (error as Error).message });
          }
          this.answer(from, { t: 'r', id, ok: false, error: failureBody(error) });
        },
      );
  }

  private answer(nodeId: string, reply: Reply): void {
    this.redis.publish(this.keys.ownerChannel(nodeId), JSON.stringify(reply)).catch((error: unknown) => {
      this.logger.warn('owner call answer lost', { to: nodeId, error: (error as Error).message });
    });
  }

  private settle(id: number, reply: Reply): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(errorFrom(reply.error));
  }

  private fail(id: number, error: unknown): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.reject(error);
  }
}

function failureBody(error: unknown): FailureBody {
  if (error instanceof NotOwnerError)
    return { code: 'STORAGE_UNAVAILABLE', message: error.message, retryable: true, notOwner: error.conversationId };
  if (error instanceof CheckedSendNotStored) return { code: error.code, message: error.message, retryable: true, checked: true };
  if (error instanceof ChatError) return { code: error.code, message: error.message, retryable: error.retryable };
  return { code: 'INTERNAL', message: 'internal error at the conversation owner', retryable: true };
}

function errorFrom(body: FailureBody): Error {
  if (body.notOwner !== undefined) return new NotOwnerError(body.notOwner, body.message);
  if (body.checked) return new CheckedSendNotStored(body.message);
  const code: ErrorCode = body.code in ErrorCodes ? (body.code as ErrorCode) : 'INTERNAL';
  return new ChatError(code, body.message, { retryable: body.retryable });
}
