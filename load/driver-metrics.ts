import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MeasurementObserver } from './measurements.js';

/** Latency buckets (seconds): 1 ms … 10 s, as the gateways' own histogram. */
const LATENCY_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/**
 * The driver's own Prometheus metrics (names in load/README.md), every series labelled with the
 * shard (`i/n`) so n driver processes can be summed. Served on `--metrics-port` at /metrics.
 */
export class DriverMetrics implements MeasurementObserver {
  readonly registry = new Registry();
  private readonly sentTotal: Counter;
  private readonly ackedTotal: Counter;
  private readonly deliveredTotal: Counter<'via'>;
  private readonly errorsTotal: Counter<'code'>;
  private readonly connectionsGauge: Gauge;
  private readonly offeredGauge: Gauge;
  private readonly ackLatency: Histogram;
  private readonly deliverLatency: Histogram;
  private readonly receiptLatency: Histogram;
  private server: Server | undefined;

  constructor(labels: { shard: string; scenario: string }) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'load_driver_' });
    const registers = [this.registry];
    this.sentTotal = new Counter({ name: 'load_messages_sent_total', help: 'Messages the driver sent (first attempts).', registers });
    this.ackedTotal = new Counter({ name: 'load_messages_acked_total', help: 'Messages the target acknowledged.', registers });
    this.deliveredTotal = new Counter({
      name: 'load_deliveries_total',
      help: 'Message deliveries to driver devices.',
      labelNames: ['via'],
      registers,
    });
    this.errorsTotal = new Counter({
      name: 'load_errors_total',
      help: 'Failed sends and requests, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.connectionsGauge = new Gauge({ name: 'load_connections', help: 'Open (welcomed) client connections.', registers });
    this.offeredGauge = new Gauge({ name: 'load_offered_messages_per_second', help: 'Send rate the schedule asks for now.', registers });
    this.ackLatency = new Histogram({
      name: 'load_ack_latency_seconds',
      help: 'Scheduled send → ack.',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.deliverLatency = new Histogram({
      name: 'load_deliver_latency_seconds',
      help: 'Scheduled send → live delivery.',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.receiptLatency = new Histogram({
      name: 'load_receipt_latency_seconds',
      help: 'Scheduled send → first delivered receipt seen by the sender.',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
  }

  sent(): void {
    this.sentTotal.inc();
  }
  acked(latencyMs: number | null): void {
    this.ackedTotal.inc();
    if (latencyMs !== null) this.ackLatency.observe(latencyMs / 1000);
  }
  delivered(via: 'live' | 'sync', latencyMs: number | null): void {
    this.deliveredTotal.inc({ via });
    if (latencyMs !== null) this.deliverLatency.observe(latencyMs / 1000);
  }
  receipt(latencyMs: number): void {
    this.receiptLatency.observe(latencyMs / 1000);
  }
  error(code: string): void {
    this.errorsTotal.inc({ code });
  }
  connections(open: number): void {
    this.connectionsGauge.set(open);
  }
  offered(perS: number): void {
    this.offeredGauge.set(perS);
  }

  /** Serves /metrics on 127.0.0.1 (or `host`); resolves with the URL. */
  async serve(port: number, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    const address = server.address() as { port: number };
    return `http://${host}:${address.port}/metrics`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
