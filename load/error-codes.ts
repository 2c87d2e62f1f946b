/** Stable codes for load runs that cannot be carried out, thrown as ToolError (cli/README.md); the CLI exits 3 on every one of them. */
export const LoadErrorCodes = {
  FAULTS_NOT_INJECTED: 'LOAD_FAULTS_NOT_INJECTED',
  TARGET_UNREACHABLE: 'LOAD_TARGET_UNREACHABLE',
  BAD_OPTION: 'LOAD_BAD_OPTION',
  EMBEDDED_START_FAILED: 'LOAD_EMBEDDED_START_FAILED',
  BAD_HISTORY_FILE: 'LOAD_BAD_HISTORY_FILE',
  /** load:merge was given the histories of only some shards (and not --allow-missing). */
  MISSING_SHARDS: 'LOAD_MISSING_SHARDS',
} as const;
export type LoadErrorCode = (typeof LoadErrorCodes)[keyof typeof LoadErrorCodes];
