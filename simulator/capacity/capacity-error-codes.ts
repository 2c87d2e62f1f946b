/** Stable codes for capacity-model problems; `npm run capacity` maps all of them to exit code 3. */
export const CapacityErrorCodes = {
  /** An assumption is out of range: a zero or negative capacity, headroom below 1, a fractional replication factor. */
  BAD_ASSUMPTION: 'CAPACITY_BAD_ASSUMPTION',
  /** The scenario gives nothing to size: no traffic, or group shares that do not add up. */
  BAD_SCENARIO: 'CAPACITY_BAD_SCENARIO',
  /** The --measured file is unreadable, not JSON, or has unknown or non-positive figures. */
  BAD_MEASURED_FILE: 'CAPACITY_BAD_MEASURED_FILE',
  /** Bad command-line arguments. */
  BAD_ARGUMENTS: 'CAPACITY_BAD_ARGUMENTS',
} as const;
export type CapacityErrorCode = (typeof CapacityErrorCodes)[keyof typeof CapacityErrorCodes];
