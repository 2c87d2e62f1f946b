/**
 * The view to keep open during a chaos drill or a staging SLO check: each objective as the
 * system sees it and as the load driver sees it, side by side with its line, and the signals a
 * fault shows first (targets down, connections dropped, the write-ahead log filling, live
 * deliveries turning into syncs).
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { SLO_TARGETS } from './slo-targets.js';
import { RATE_WINDOW, Units, datasourceVariable, quantile, stat, timeseries } from './panel-kit.js';

function rate(counter: string, selector = ''): string {
  return `rate(${counter}${selector}[${RATE_WINDOW}])`;
}

export function chaosSloDashboard(): Dashboard {
  return new DashboardBuilder('Chat SLOs under chaos')
    .uid('chat-slo')
    .tags(['chat', 'slo', 'chaos', 'generated'])
    .description(
      'Objectives from the system and from the load driver, with the signals faults show first. Generated from dashboards/src/chaos-slo.ts (npm run dashboards); edits to the JSON are overwritten.',
    )
    .editable()
    .refresh('5s')
    .time({ from: 'now-30m', to: 'now' })
    .withVariable(datasourceVariable())

    .withRow(new RowBuilder('Objectives'))
    .withPanel(
      stat({
        title: 'Scrape targets down',
        description: 'Targets the data source could not scrape on its last attempt (a killed gateway or driver shows here at once).',
        unit: Units.count,
        query: { expr: 'count(up == 0) or vector(0)', legend: 'down' },
        redFrom: 1,
      }),
    )
    .withPanel(
      stat({
        title: 'Deliver p99, system (5 m)',
        description: `Gateways' accept → delivery p99. Red from ${SLO_TARGETS.deliverP99S * 1000} ms.`,
        unit: Units.seconds,
        query: { expr: 'histogram_quantile(0.99, sum by (le) (rate(chat_deliver_latency_seconds_bucket[5m])))', legend: 'p99' },
        redFrom: SLO_TARGETS.deliverP99S,
      }),
    )
    .withPanel(
      stat({
        title: 'Deliver p99, driver (5 m)',
        description: `Load driver's scheduled send → delivery p99. Red from ${SLO_TARGETS.deliverP99S * 1000} ms.`,
        unit: Units.seconds,
        query: { expr: 'histogram_quantile(0.99, sum by (le) (rate(load_deliver_latency_seconds_bucket[5m])))', legend: 'p99' },
        redFrom: SLO_TARGETS.deliverP99S,
      }),
    )
    .withPanel(
      stat({
        title: 'Ack p99, driver (5 m)',
        description: `Load driver's scheduled send → ack p99. Red from ${SLO_TARGETS.ackP99S * 1000} ms.`,
        unit: Units.seconds,
        query: { expr: 'histogram_quantile(0.99, sum by (le) (rate(load_ack_latency_seconds_bucket[5m])))', legend: 'p99' },
        redFrom: SLO_TARGETS.ackP99S,
      }),
    )
    .withPanel(
      stat({
        title: 'Error frames / client frames (5 m)',
        description: `Share of client frames the gateways answered with an error. Red from ${SLO_TARGETS.errorRatio * 100} %.`,
        unit: Units.ratio,
        query: { expr: 'sum(increase(chat_errors_total[5m])) / sum(increase(chat_frames_in_total[5m]))', legend: 'errors / frames' },
        redFrom: SLO_TARGETS.errorRatio,
      }),
    )
    .withPanel(
      stat({
        title: 'WAL oldest entry (max)',
        description: `The longest any logged send has waited for the message store. Red from ${SLO_TARGETS.walOldestAgeS} s.`,
        unit: Units.seconds,
        query: { expr: 'max(chat_wal_oldest_age_seconds)', legend: 'oldest' },
        redFrom: SLO_TARGETS.walOldestAgeS,
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliver p99: system and driver',
        description: `The gateways' server-clock p99 and the driver's end-to-end p99; the gap is network, client and driver time. Dashed line: ${SLO_TARGETS.deliverP99S * 1000} ms.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.deliverP99S,
        queries: [
          { expr: quantile(0.99, 'chat_deliver_latency_seconds'), legend: 'system p99' },
          { expr: quantile(0.99, 'load_deliver_latency_seconds'), legend: 'driver p99' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Ack p99 (driver)',
        description: `Scheduled send → ack, all driver shards. Dashed line: ${SLO_TARGETS.ackP99S * 1000} ms.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.ackP99S,
        queries: [{ expr: quantile(0.99, 'load_ack_latency_seconds'), legend: 'ack p99' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Error ratio: system and driver',
        description: `Gateways: error frames over client frames. Driver: failed sends, uploads and connects over messages sent. Dashed line: ${SLO_TARGETS.errorRatio * 100} %.`,
        unit: Units.ratio,
        min: 0,
        sloLine: SLO_TARGETS.errorRatio,
        queries: [
          { expr: `sum(${rate('chat_errors_total')}) / sum(${rate('chat_frames_in_total')})`, legend: 'system' },
          { expr: `sum(${rate('load_errors_total')}) / clamp_min(sum(${rate('load_messages_sent_total')}), 1e-9)`, legend: 'driver' },
        ],
      }),
    )

    .withRow(new RowBuilder('What a fault shows first'))
    .withPanel(
      timeseries({
        title: 'Scrape targets up',
        description: '1 when the data source scraped the target, 0 when it could not (gateway killed, partitioned, or restarting).',
        unit: Units.count,
        min: 0,
        queries: [{ expr: 'up', legend: '{{job}} {{instance}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Connections dropped by reason',
        description:
          "Connections closed for any reason but the client's own close, per second: a killed peer, slow consumers, heartbeat timeouts, shutdown drains.",
        unit: Units.perSecond,
        min: 0,
        queries: [
          { expr: `sum by (reason) (${rate('chat_connections_closed_total', '{reason!="client_closed"}')}) > 0`, legend: '{{reason}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Connections: gateways and driver',
        description:
          'Connections the gateways hold and the driver believes open: after a gateway dies the two part until clients have reconnected elsewhere.',
        unit: Units.count,
        min: 0,
        queries: [
          { expr: 'sum(chat_connections)', legend: 'gateways' },
          { expr: 'sum(load_connections)', legend: 'driver' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'WAL oldest entry age',
        description: `How long the oldest send in each gateway's write-ahead log has waited for the message store. Dashed line: ${SLO_TARGETS.walOldestAgeS} s.`,
        unit: Units.seconds,
        min: 0,
        sloLine: SLO_TARGETS.walOldestAgeS,
        queries: [{ expr: 'max by (node) (chat_wal_oldest_age_seconds)', legend: 'oldest age {{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'WAL depth',
        description: 'Sends logged and not yet replayed, per gateway.',
        unit: Units.count,
        min: 0,
        queries: [{ expr: 'max by (node) (chat_wal_depth)', legend: '{{node}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Deliveries: live and by sync (driver)',
        description:
          "Messages the driver's devices received live or by sync after a reconnect, per second: a failover turns live deliveries into syncs.",
        unit: Units.perSecond,
        min: 0,
        queries: [{ expr: `sum by (via) (${rate('load_deliveries_total')})`, legend: '{{via}}' }],
      }),
    )
    .build();
}
