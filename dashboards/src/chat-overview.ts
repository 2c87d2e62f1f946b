/**
 * The system overview: what the gateways report about themselves (docs/metrics.md). Rows go from
 * what users feel (traffic, latency) to why (fan-out, offline path, errors, the write-ahead log)
 * to what each gateway process costs.
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { SLO_TARGETS } from './slo-targets.js';
import { RATE_WINDOW, Units, barGauge, datasourceVariable, labelVariable, quantile, stat, timeseries } from './panel-kit.js';

/** Every gateway query is narrowed to the nodes picked in the `node` variable. */
const NODES = '{node=~"$node"}';

function rate(counter: string, selector = NODES): string {
  return `rate(${counter}${selector}[${RATE_WINDOW}])`;
}

export function chatOverviewDashboard(): Dashboard {
  return new DashboardBuilder('Chat overview')
    .uid('chat-overview')
    .tags(['chat', 'generated'])
    .description(
      'The reference chat system as its gateways report it. Generated from dashboards/src/chat-overview.ts (npm run dashboards); edits to the JSON are overwritten.',
    )
    .editable()
    .refresh('5s')
    .time({ from: 'now-15m', to: 'now' })
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('node', 'node', 'chat_connections', 'Gateway node'))

    .withRow(new RowBuilder('Traffic and latency'))
    .withPanel(
      stat({
        title: 'Gateways reporting',
        description: 'Gateway processes whose /metrics the data source scraped last (a killed gateway drops out).',
        unit: Units.count,
        query: { expr: `count(chat_connections${NODES})`, legend: 'gateways' },
      }),
    )
    .withPanel(
      stat({
        title: 'Open connections',
        description: 'Client connections open on the picked gateways.',
        unit: Units.count,
        query: { expr: `sum(chat_connections${NODES})`, legend: 'connections' },
      }),
    )
    .withPanel(
      stat({
        title: 'Deliver p99 (5 m)',
        description: `Server-clock accept → live delivery, 99th percentile over the last 5 minutes. Red from the ${SLO_TARGETS.deliverP99S * 1000} ms objective.`,
        unit: Units.seconds,
        query: { expr: `histogram_quantile(0.99, sum by (le) (rate(chat_deliver_latency_seconds_bucket${NODES}[5m])))`, legend: 'p99' },
        redFrom: SLO_TARGETS.deliverP99S,
      }),
    )
    .withPanel(
      stat({
        title: 'Error frames / client frames (5 m)',
        description: `Share of client frames answered with an error frame. Red from ${SLO_TARGETS.errorRatio * 100} %.`,
        unit: Units.ratio,
        query: {
          expr: `sum(increase(chat_errors_total${NODES}[5m])) / sum(increase(chat_frames_in_total${NODES}[5m]))`,
          legend: 'errors / frames',
        },
        redFrom: SLO_TARGETS.errorRatio,
      }),
    )
    .withPanel(
      timeseries({
        title: 'Events accepted and delivered',
        description: 'Conversation events stored and numbered (by kind) and events handed live to a recipient device, per second.',
        unit: Units.perSecond,
        min: 0,
        queries: [
          { expr: `sum by (kind) (${rate('chat_events_accepted_total')})`, legend: 'accepted {{kind}}' },
          { expr: `sum(${rate('chat_events_delivered_total')})`, legend: 'delivered live' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliver latency (server clock)',
        description: `Accept → live delivery on the gateway's clock (the load driver's end-to-end figure is higher). Dashed line: the ${SLO_TARGETS.deliverP99S * 1000} ms p99 objective.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.deliverP99S,
        queries: [
          { expr: quantile(0.5, 'chat_deliver_latency_seconds', NODES), legend: 'p50' },
          { expr: quantile(0.99, 'chat_deliver_latency_seconds', NODES), legend: 'p99' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliver p99 by node',
        description: `Per-gateway deliver p99: one slow node hides in the overall figure. Dashed line: ${SLO_TARGETS.deliverP99S * 1000} ms.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.deliverP99S,
        queries: [{ expr: quantile(0.99, 'chat_deliver_latency_seconds', NODES, ['node']), legend: '{{node}}' }],
      }),
    )

    .withRow(new RowBuilder('Connections and frames'))
    .withPanel(
      timeseries({
        title: 'Open connections by node',
        description: 'Client connections per gateway: an uneven spread shows a balancer or reconnect problem.',
        unit: Units.count,
        min: 0,
        queries: [{ expr: `sum by (node) (chat_connections${NODES})`, legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Connections closed by reason',
        description:
          'Closed connections per second by reason (client_closed is normal churn; SLOW_CONSUMER, HEARTBEAT_TIMEOUT and closed_<code> are not). Zero series are hidden.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (reason) (${rate('chat_connections_closed_total')}) > 0`, legend: '{{reason}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Errors by code',
        description:
          'Error frames sent per second, by code (docs/errors.md). Every code starts at 0, so the first error of a kind shows. Zero series are hidden.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (code) (${rate('chat_errors_total')}) > 0`, legend: '{{code}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Client frames in by type',
        description: 'Frames received from clients and decoded, per second, by frame type. Zero series are hidden.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (type) (${rate('chat_frames_in_total')}) > 0`, legend: '{{type}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Server frames out by type',
        description: 'Frames sent to clients per second, by frame type. Zero series are hidden.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (type) (${rate('chat_frames_out_total')}) > 0`, legend: '{{type}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Frames per connection',
        description:
          'Client frames in and server frames out per second, per open connection: a client that floods or a fan-out that grows shows here first.',
        unit: Units.perSecond,
        min: 0,
        queries: [
          { expr: `sum(${rate('chat_frames_in_total')}) / clamp_min(sum(chat_connections${NODES}), 1)`, legend: 'in per connection' },
          { expr: `sum(${rate('chat_frames_out_total')}) / clamp_min(sum(chat_connections${NODES}), 1)`, legend: 'out per connection' },
        ],
      }),
    )

    .withRow(new RowBuilder('Fan-out and the offline path'))
    .withPanel(
      timeseries({
        title: 'Fan-out: devices per event (mean)',
        description:
          'Recipient devices an accepted event was queued for, as sum / count of the histogram: exact, unlike a quantile, which interpolates inside the lowest bucket (le=1) and reads below one device.',
        unit: Units.count,
        min: 0,
        queries: [{ expr: `sum(${rate('chat_fanout_devices_sum')}) / sum(${rate('chat_fanout_devices_count')})`, legend: 'mean devices' }],
      }),
    )
    .withPanel(
      barGauge({
        title: 'Fan-out distribution (last 5 m)',
        description:
          'Share of accepted events queued for at most N devices (the histogram buckets, cumulative). Reads the buckets as they are instead of interpolating between them.',
        unit: Units.ratio,
        queries: [
          {
            expr: `sum by (le) (increase(chat_fanout_devices_bucket${NODES}[5m])) / ignoring(le) group_left sum(increase(chat_fanout_devices_count${NODES}[5m]))`,
            legend: '≤ {{le}} devices',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Push notifications by outcome',
        description: 'Push notifications per second by outcome (sent, unregistered, retry, failed, error). Zero series are hidden.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (outcome) (${rate('chat_push_total')}) > 0`, legend: '{{outcome}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Offline inbox: events drained on connect',
        description: 'Events sent from offline inboxes when devices connect, per second.',
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum(${rate('chat_inbox_drained_events_total')})`, legend: 'drained events' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Offline inbox depth on connect',
        description: 'Queued events a device found when it connected: mean (sum / count) and 99th percentile.',
        unit: Units.count,
        min: 0,
        queries: [
          { expr: `sum(${rate('chat_inbox_depth_on_connect_sum')}) / sum(${rate('chat_inbox_depth_on_connect_count')})`, legend: 'mean' },
          { expr: quantile(0.99, 'chat_inbox_depth_on_connect', NODES), legend: 'p99' },
        ],
      }),
    )

    .withRow(new RowBuilder('Write-ahead log (message-store outages)'))
    .withPanel(
      timeseries({
        title: 'WAL depth by node',
        description:
          "Sends in each gateway's write-ahead log waiting for the message store (docs/write-ahead-log.md). Above zero only while the store refuses writes or replay catches up.",
        unit: Units.count,
        min: 0,
        queries: [{ expr: `max by (node) (chat_wal_depth${NODES})`, legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'WAL oldest entry age by node',
        description: `How long the oldest logged send has waited: recipients have not seen it yet. Dashed line: ${SLO_TARGETS.walOldestAgeS} s.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.walOldestAgeS,
        queries: [{ expr: `max by (node) (chat_wal_oldest_age_seconds${NODES})`, legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'WAL appended and replayed',
        description:
          'Entries logged because the store could not take them, and entries replayed by outcome (stored, duplicate, rejected), per second.',
        unit: Units.perSecond,
        min: 0,
        queries: [
          { expr: `sum(${rate('chat_wal_appended_total')})`, legend: 'appended' },
          { expr: `sum by (outcome) (${rate('chat_wal_replayed_total')})`, legend: 'replayed {{outcome}}' },
        ],
      }),
    )

    .withRow(new RowBuilder('Gateway processes'))
    .withPanel(
      timeseries({
        title: 'CPU by node',
        description: 'CPU seconds per second of each gateway process (1 = one core busy; Node runs JavaScript on one).',
        unit: Units.count,
        min: 0,
        queries: [{ expr: `sum by (node) (${rate('process_cpu_seconds_total')})`, legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Event-loop lag p99 by node',
        description: 'How late timers and I/O callbacks run on each gateway: a saturated event loop delays every frame.',
        unit: Units.seconds,
        min: 0,
        queries: [{ expr: `max by (node) (nodejs_eventloop_lag_p99_seconds${NODES})`, legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Heap used by node',
        description: 'V8 heap in use per gateway process.',
        unit: Units.bytes,
        min: 0,
        queries: [{ expr: `sum by (node) (nodejs_heap_size_used_bytes${NODES})`, legend: '{{node}}' }],
      }),
    )
    .build();
}
