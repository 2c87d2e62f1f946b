/**
 * The load driver's own view (load/README.md, "The driver's own metrics"): what it offered, what
 * the system answered, end-to-end latency from the scheduled send time, and whether the driver
 * itself kept up. The series arrive scraped from `--metrics-port` or pushed with
 * `--out prometheus-remote-write=URL`; both carry the `shard` and `scenario` labels the queries use.
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { SLO_TARGETS } from './slo-targets.js';
import { RATE_WINDOW, Units, datasourceVariable, labelVariable, quantile, stat, timeseries } from './panel-kit.js';

const SCENARIOS = '{scenario=~"$scenario"}';

function rate(counter: string): string {
  return `rate(${counter}${SCENARIOS}[${RATE_WINDOW}])`;
}

export function loadDriverDashboard(): Dashboard {
  return new DashboardBuilder('Chat load driver')
    .uid('chat-load-driver')
    .tags(['chat', 'load', 'generated'])
    .description(
      'The load driver (npm run load) as it measures the system. Generated from dashboards/src/load-driver.ts (npm run dashboards); edits to the JSON are overwritten.',
    )
    .editable()
    .refresh('5s')
    .time({ from: 'now-15m', to: 'now' })
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('scenario', 'scenario', 'load_messages_sent_total', 'Scenario'))

    .withRow(new RowBuilder('Offered and answered'))
    .withPanel(
      stat({
        title: 'Driver shards',
        description: 'Driver processes (shards) reporting.',
        unit: Units.count,
        query: { expr: `count(load_connections${SCENARIOS})`, legend: 'shards' },
      }),
    )
    .withPanel(
      stat({
        title: 'Connections',
        description: 'Welcomed client connections over all shards.',
        unit: Units.count,
        query: { expr: `sum(load_connections${SCENARIOS})`, legend: 'connections' },
      }),
    )
    .withPanel(
      stat({
        title: 'Deliver p99 (5 m)',
        description: `Scheduled send → live delivery, 99th percentile over the last 5 minutes, all shards. Red from the ${SLO_TARGETS.deliverP99S * 1000} ms objective.`,
        unit: Units.seconds,
        query: { expr: `histogram_quantile(0.99, sum by (le) (rate(load_deliver_latency_seconds_bucket${SCENARIOS}[5m])))`, legend: 'p99' },
        redFrom: SLO_TARGETS.deliverP99S,
      }),
    )
    .withPanel(
      stat({
        title: 'Failed / sent (5 m)',
        description: `Failed sends, uploads and connects over messages sent. Red from ${SLO_TARGETS.errorRatio * 100} %.`,
        unit: Units.ratio,
        query: {
          expr: `sum(increase(load_errors_total${SCENARIOS}[5m])) / clamp_min(sum(increase(load_messages_sent_total${SCENARIOS}[5m])), 1)`,
          legend: 'failed / sent',
        },
        redFrom: SLO_TARGETS.errorRatio,
      }),
    )
    .withPanel(
      timeseries({
        title: 'Messages offered, sent and acked',
        description:
          'The rate the schedule asks for, what the driver sent (first attempts) and what the system acknowledged, per second. Sent below offered: the driver fell behind; acked below sent: the system did.',
        unit: Units.perSecond,
        min: 0,
        queries: [
          { expr: `sum(load_offered_messages_per_second${SCENARIOS})`, legend: 'offered' },
          { expr: `sum(${rate('load_messages_sent_total')})`, legend: 'sent' },
          { expr: `sum(${rate('load_messages_acked_total')})`, legend: 'acked' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliveries by path',
        description: "Messages delivered to the driver's devices per second: live on an open connection, or by sync after a reconnect.",
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (via) (${rate('load_deliveries_total')})`, legend: '{{via}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Connections by shard',
        description: 'Welcomed connections per driver shard (churn takes devices offline and back).',
        unit: Units.count,
        min: 0,
        queries: [{ expr: `sum by (shard) (load_connections${SCENARIOS})`, legend: 'shard {{shard}}' }],
      }),
    )

    .withRow(new RowBuilder('End-to-end latency (from the scheduled send time)'))
    .withPanel(
      timeseries({
        title: 'Ack latency',
        description: `Scheduled send → ack. Dashed line: the ${SLO_TARGETS.ackP99S * 1000} ms p99 objective.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.ackP99S,
        queries: [
          { expr: quantile(0.5, 'load_ack_latency_seconds', SCENARIOS), legend: 'p50' },
          { expr: quantile(0.99, 'load_ack_latency_seconds', SCENARIOS), legend: 'p99' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliver latency',
        description: `Scheduled send → live delivery on a recipient device. Dashed line: the ${SLO_TARGETS.deliverP99S * 1000} ms p99 objective.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.deliverP99S,
        queries: [
          { expr: quantile(0.5, 'load_deliver_latency_seconds', SCENARIOS), legend: 'p50' },
          { expr: quantile(0.99, 'load_deliver_latency_seconds', SCENARIOS), legend: 'p99' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Receipt latency',
        description: 'Scheduled send → the sender sees the first delivered receipt.',
        unit: Units.seconds,
        min: 0,
        queries: [
          { expr: quantile(0.5, 'load_receipt_latency_seconds', SCENARIOS), legend: 'p50' },
          { expr: quantile(0.99, 'load_receipt_latency_seconds', SCENARIOS), legend: 'p99' },
        ],
      }),
    )

    .withRow(new RowBuilder('Failures and the driver itself'))
    .withPanel(
      timeseries({
        title: 'Driver errors by code',
        description: 'Failed sends, uploads (media:…) and connects (connect:…) per second, by code.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (code) (${rate('load_errors_total')})`, legend: '{{code}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Driver CPU by shard',
        description:
          'CPU seconds per second of each driver process. Near 1 the driver, not the system, is the bottleneck: its latencies grow from its own queueing.',
        unit: Units.count,
        min: 0,
        queries: [{ expr: `sum by (shard) (${rate('load_driver_process_cpu_seconds_total')})`, legend: 'shard {{shard}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Driver event-loop lag p99 by shard',
        description:
          "How late the driver's timers fire: sends go out late by about this much (they are still timed from their scheduled time).",
        unit: Units.seconds,
        min: 0,
        queries: [{ expr: `max by (shard) (load_driver_nodejs_eventloop_lag_p99_seconds${SCENARIOS})`, legend: 'shard {{shard}}' }],
      }),
    )
    .build();
}
