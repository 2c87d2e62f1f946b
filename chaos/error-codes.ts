/**
 * Stable codes for everything that stops a drill from being carried out. The CLI maps each of them
 * to exit code 3 (could not run) and prints the message, which says what to fix.
 */
export const ChaosErrorCodes = {
  DRILL_UNREADABLE: 'DRILL_UNREADABLE',
  DRILL_NOT_YAML: 'DRILL_NOT_YAML',
  DRILL_INVALID: 'DRILL_INVALID',
  /** A fault the chosen target cannot inject (e.g. slow_consumer, or a tier without a proxy). */
  FAULT_NOT_INJECTABLE: 'CHAOS_FAULT_NOT_INJECTABLE',
  /** The fault-injecting proxy could not be built, started or driven. */
  PROXY_UNAVAILABLE: 'CHAOS_PROXY_UNAVAILABLE',
  /** Gateways or backends of the topology could not be started or reached. */
  TOPOLOGY_FAILED: 'CHAOS_TOPOLOGY_FAILED',
  /** A fault could not be injected or healed while the drill ran. */
  INJECTION_FAILED: 'CHAOS_INJECTION_FAILED',
  /** The load driver is missing or refused the scenario. */
  LOAD_FAILED: 'CHAOS_LOAD_FAILED',
  BAD_ARGUMENTS: 'CHAOS_BAD_ARGUMENTS',
} as const;
export type ChaosErrorCode = (typeof ChaosErrorCodes)[keyof typeof ChaosErrorCodes];
