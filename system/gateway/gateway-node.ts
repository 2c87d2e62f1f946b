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
   * puts its route and presence back and sweeps its inbox, a few at a time. Failures are left to
   * the sessions' next heartbeats, which do the same.
   */
  async reannounceSessions(): Promise<{ sessions: number; failed: number }> {
    const sessions = [...this.sessions];
    let failed = 0;
    for (let i = 0; i < sessions.length; i += REANNOUNCE_CONCURRENCY) {
      const results = await Promise.allSettled(sessions.slice(i, i + REANNOUNCE_CONCURRENCY).map((s) => s.reannounce()));
      failed += results.filter((r) => r.status === 'rejected').length;
    }
    return { sessions: sessions.length, failed };
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
