import type { Connection } from '../ports/connection.js';
import type { ServerFrame } from '../protocol/frames.js';
import { CloseCodes } from '../protocol/version.js';
import type { ChatCore } from '../services/chat-core.js';
import { Session, type SessionHost } from './session.js';

/** The local end of the Router port: frames for this node's connections land here. */
export interface LocalDelivery {
  attach(connectionId: string, endpoint: { deliverFrame(frame: ServerFrame): void }): void;
  detach(connectionId: string, endpoint: { deliverFrame(frame: ServerFrame): void }): void;
}

/** Sessions re-announced at once after a Redis restart (each is two Redis calls and an inbox read). */
const REANNOUNCE_CONCURRENCY = 64;
/** First wait before re-announcing the sessions that failed to; doubles each time (see reannounceSessions). */
const REANNOUNCE_RETRY_FIRST_MS = 500;

export interface GatewayNodeOptions {
  /** Other gateways' URLs, offered to clients in `goaway` when this node shuts down. */
  peerUrls?: string[];
}

/**
 * One gateway node: owns its sessions, routes frames to them, and shuts down gracefully (stop
 * accepting, tell clients to go elsewhere, let in-flight requests finish, close). Transport-free:
 * the `ws` server and the simulator both open sessions on it.
 */
export class GatewayNode implements SessionHost {
  private readonly sessions = new Set<Session>();
  private accepting = true;
  private connectionCounter = 0;
  /**
   * Tells this process's connection ids from those of an earlier process with the same node id.
   * Routes in the registry outlive a killed process; if a restarted one counted from 1 again, a
   * stale route of one device would name a new connection of another device, and frames meant
   * for the first would reach the second (the simulator's gateway-crash runs found this).
   */
  private readonly incarnation: string;

  constructor(
    readonly core: ChatCore,
    private readonly localDelivery: LocalDelivery,
    private readonly options: GatewayNodeOptions = {},
  ) {
    this.incarnation = core.deps.random.hex(4);
  }

  get nodeId(): string {
    return this.core.deps.nodeId;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * A connection id unique across this node's processes (deterministic under a seeded Random:
   * the simulator depends on it).
   */
  nextConnectionId(): string {
    return `${this.nodeId}-${this.incarnation}-c${++this.connectionCounter}`;
  }

  /**
   * After the registry and presence store lost their state (a Redis restart), every open session
   * puts its route and presence back and sweeps its inbox, a few at a time. Sessions whose
   * re-announcement failed (Redis back but not answering every request yet: timeouts, a partition
   * right after the restart) try again after REANNOUNCE_RETRY_FIRST_MS, then twice as long each
   * time, until a heartbeat interval has passed; from then on their heartbeats do the same. Left to
   * the heartbeats at once, such a device stayed unroutable and showed offline for up to 30 s (the
   * seed swarm: a Redis restart followed by a Redis partition, swarm-small seed 197).
   * Resolves with the sessions that were never put back.
   */
  async reannounceSessions(): Promise<{ sessions: number; failed: number }> {
    const all = [...this.sessions];
    const { clock, limits } = this.core.deps;
    const startedMs = clock.nowMs();
    let pending = all;
    let delayMs = REANNOUNCE_RETRY_FIRST_MS;
    for (;;) {
      const failed: Session[] = [];
      for (let i = 0; i < pending.length; i += REANNOUNCE_CONCURRENCY) {
        const batch = pending.slice(i, i + REANNOUNCE_CONCURRENCY);
        const results = await Promise.allSettled(batch.map((s) => s.reannounce()));
        results.forEach((result, j) => {
          if (result.status === 'rejected') failed.push(batch[j]!);
        });
      }
      pending = failed.filter((s) => this.sessions.has(s));
      if (pending.length === 0 || clock.nowMs() + delayMs - startedMs > limits.heartbeatIntervalMs)
        return { sessions: all.length, failed: pending.length };
      await new Promise<void>((resolve) => clock.setTimer(delayMs, resolve));
      delayMs *= 2;
    }
  }

  openSession(connection: Connection): Session {
    const session = new Session(this, connection);
    this.sessions.add(session);
    return session;
  }

  attach(connectionId: string, session: Session): void {
    this.localDelivery.attach(connectionId, session);
  }

  detach(connectionId: string, session: Session): void {
    this.localDelivery.detach(connectionId, session);
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  /** Graceful shutdown: goaway to every client, wait for in-flight work (bounded), close all. */
  async shutdown(): Promise<void> {
    this.accepting = false;
    const { limits, clock } = this.core.deps;
    const sessions = [...this.sessions];
    for (const session of sessions) session.goAway('shutting_down', limits.reconnectAfterMs, this.options.peerUrls);
    await Promise.race([
      Promise.all(sessions.map((s) => s.whenIdle())),
      new Promise<void>((resolve) => clock.setTimer(limits.shutdownDrainMs, resolve)),
    ]);
    for (const session of [...this.sessions]) session.close(CloseCodes.SHUTTING_DOWN, 'server shutting down');
    // What the write-ahead log still holds stays on disk for the next start to replay.
    await this.core.writeAhead?.stop();
  }
}
