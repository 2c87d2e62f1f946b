/** Stable codes of the alert-rule tools (thrown as ToolError, cli/README.md); `npm run alerts:test` exits 1 on each. */
export const AlertsErrorCodes = {
  /** slo-rules.yml differs from what the SLO definitions generate: someone edited one without the other. */
  RULES_STALE: 'ALERTS_RULES_STALE',
  /** promtool found a problem (its own output, printed above, says which). */
  PROMTOOL_FAILED: 'ALERTS_PROMTOOL_FAILED',
} as const;
