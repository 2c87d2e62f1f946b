import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../core/errors.js';
import type { Metrics } from '../ports/metrics.js';
import {
  acceptedEventKinds,
  clientFrameTypes,
  errorCodes,
  knownCloseReasons,
  pushOutcomes,
  serverFrameTypes,
  walReplayOutcomes,
} from './known-label-values.js';

/** Metric names are part of the project's interface (dashboards and SLO queries use them). */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly connections: Gauge;
  private readonly connectionsClosed: Counter;
  private readonly framesIn: Counter;
  private readonly framesOut: Counter;
  private readonly accepted: Counter;
  private readonly delivered: Counter;
  private readonly deliverLatency: Histogram;
  private readonly fanoutSize: Histogram;
  private readonly inboxDrainedEvents: Counter;
  private readonly inboxDepthOnConnect: Histogram;
  private readonly pushes: Counter;
  private readonly errors: Counter;
  private readonly walDepth: Gauge;
  private readonly walOldestAge: Gauge;
  private readonly walAppends: Counter;
  private readonly walReplays: Counter;

  constructor(options: { nodeId: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ node: options.nodeId });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.connections = new Gauge({ name: 'chat_connections', help: 'Open client connections', registers });
    this.connectionsClosed = new Counter({
      name: 'chat_connections_closed_total',
      help: 'Closed connections by reason',
      labelNames: ['reason'],
      registers,
    });
    this.framesIn = new Counter({ name: 'chat_frames_in_total', help: 'Client frames received, by type', labelNames: ['type'], registers });
    this.framesOut = new Counter({ name: 'chat_frames_out_total', help: 'Server frames sent, by type', labelNames: ['type'], registers });
    this.accepted = new Counter({
      name: 'chat_events_accepted_total',
      help: 'Conversation events accepted (stored and numbered), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.delivered = new Counter({
      name: 'chat_events_delivered_total',
      help: 'Events handed live to a recipient device connection',
      registers,
    });
    this.deliverLatency = new Histogram({
      name: 'chat_deliver_latency_seconds',
      help: 'Accept-to-delivery latency of live deliveries (server clock)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.fanoutSize = new Histogram({
      name: 'chat_fanout_devices',
      help: 'Recipient devices an accepted event was queued for',
      buckets: [1, 2, 5, 10, 25, 50, 100, 256, 512, 1280],
      registers,
    });
    this.inboxDrainedEvents = new Counter({
      name: 'chat_inbox_drained_events_total',
      help: 'Events sent from offline inboxes on connect',
      registers,
    });
    this.inboxDepthOnConnect = new Histogram({
      name: 'chat_inbox_depth_on_connect',
      help: 'Events waiting in a device inbox when it connected',
      buckets: [0, 1, 10, 100, 1_000, 10_000, 100_000],
      registers,
    });
    this.pushes = new Counter({ name: 'chat_push_total', help: 'Push notifications by outcome', labelNames: ['outcome'], registers });
    this.errors = new Counter({ name: 'chat_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers });
    this.walDepth = new Gauge({ name: 'chat_wal_depth', help: 'Accepted sends in the write-ahead log waiting for replay', registers });
    this.walOldestAge = new Gauge({
      name: 'chat_wal_oldest_age_seconds',
      help: 'Age of the oldest write-ahead log entry (0 when empty)',
      registers,
    });
    this.walAppends = new Counter({
      name: 'chat_wal_appended_total',
      help: 'Sends logged because the message store could not take them',
      registers,
    });
    this.walReplays = new Counter({
      name: 'chat_wal_replayed_total',
      help: 'Write-ahead log entries replayed, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.zeroKnownSeries();
  }

  /** Every known label value starts at 0, so increase() sees the first increment (known-label-values.ts). */
  private zeroKnownSeries(): void {
    const zero = (counter: Counter, label: string, values: readonly string[]) => {
      for (const value of values) counter.inc({ [label]: value }, 0);
    };
    zero(this.connectionsClosed, 'reason', knownCloseReasons);
    zero(this.framesIn, 'type', clientFrameTypes);
    zero(this.framesOut, 'type', serverFrameTypes);
    zero(this.accepted, 'kind', acceptedEventKinds);
    zero(this.pushes, 'outcome', pushOutcomes);
    zero(this.errors, 'code', errorCodes);
    zero(this.walReplays, 'outcome', walReplayOutcomes);
  }

  connectionOpened(): void {
    this.connections.inc();
  }
  connectionClosed(reason: string): void {
    this.connections.dec();
    this.connectionsClosed.inc({ reason: reason.slice(0, 40) });
  }
  frameIn(type: string): void {
    this.framesIn.inc({ type });
  }
  frameOut(type: string): void {
    this.framesOut.inc({ type });
  }
  messageAccepted(kind: 'message' | 'membership'): void {
    this.accepted.inc({ kind });
  }
  messageDelivered(latencyMs: number): void {
    this.delivered.inc();
    this.deliverLatency.observe(latencyMs / 1000);
  }
  fanout(recipientDevices: number): void {
    this.fanoutSize.observe(recipientDevices);
  }
  inboxDrained(events: number): void {
    this.inboxDrainedEvents.inc(events);
    this.inboxDepthOnConnect.observe(events);
  }
  pushSent(outcome: string): void {
    this.pushes.inc({ outcome });
  }
  error(code: ErrorCode): void {
    this.errors.inc({ code });
  }

  walState(depth: number, oldestAgeMs: number): void {
    this.walDepth.set(depth);
    this.walOldestAge.set(oldestAgeMs / 1000);
  }
  walAppended(): void {
    this.walAppends.inc();
  }
  walReplayed(outcome: 'stored' | 'duplicate' | 'rejected'): void {
    this.walReplays.inc({ outcome });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
