import type { Threshold } from 'k6/options';
import type { Scenario } from '../../../scenarios/format/index.js';
import { ChatMetricNames } from './chat-metric-names.js';

/*
 * The scenario's SLOs as k6 thresholds on the script's custom metrics. Latency thresholds apply to
 * the `phase:steady` samples only, so messages sent during `warmup_s` are timed but not judged, as
 * in the load driver. `violations_max` has no checker here (k6 cannot run the history checker): the
 * nearest thing k6 can count is a message acknowledged but never delivered within the timeout.
 */

const STEADY = '{phase:steady}';

export function thresholdsOf(slo: Scenario['slo']): Record<string, Threshold[]> {
  const thresholds: Record<string, Threshold[]> = {
    [`${ChatMetricNames.deliverLatencyMs}${STEADY}`]: [`p(99)<${slo.deliver_p99_ms}`],
  };
  if (slo.ack_p99_ms !== undefined) thresholds[`${ChatMetricNames.ackLatencyMs}${STEADY}`] = [`p(99)<${slo.ack_p99_ms}`];
  if (slo.error_rate_max !== undefined) thresholds[ChatMetricNames.errors] = [`rate<=${slo.error_rate_max}`];
  thresholds[ChatMetricNames.messagesLost] = [`count<=${slo.violations_max}`];
  return thresholds;
}
