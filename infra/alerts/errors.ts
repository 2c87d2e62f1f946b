/** Typed errors of the alert-rule tools, with stable codes for scripts and CI logs. */

/** slo-rules.yml differs from what the SLO definitions generate: someone edited one without the other. */
export class AlertRulesStaleError extends Error {
  override readonly name = 'AlertRulesStaleError';
  readonly code = 'ALERTS_RULES_STALE';
}

/** promtool found a problem (its own output, printed above, says which). */
export class PromtoolFailedError extends Error {
  override readonly name = 'PromtoolFailedError';
  readonly code = 'ALERTS_PROMTOOL_FAILED';
}
