/*
 * The capacity model: what each tier needs for a scenario (docs/capacity.md).
 */
export {
  ASSUMPTION_SOURCES,
  DEFAULT_CAPACITY_ASSUMPTIONS,
  DESIGN_CARD_ASSUMPTIONS,
  validateAssumptions,
  type CapacityAssumptions,
  type PerNodeCapacity,
} from './capacity-assumptions.js';
export { CapacityErrorCodes, type CapacityErrorCode } from './capacity-error-codes.js';
export {
  capacityInputsOf,
  deriveCapacity,
  scenarioPeakMultiplier,
  SECONDS_PER_DAY,
  type CapacityInputs,
  type CapacityPlan,
  type TierNeed,
} from './derive-capacity.js';
export { DESIGN_CARD_FIGURES, DESIGN_CARD_TOLERANCE } from './design-card.js';
export { measuredCapacitySchema, parseMeasuredCapacity, readMeasuredCapacity, type MeasuredCapacity } from './measured-capacity.js';
export {
  capacityComparisonTable,
  compareCapacity,
  formatCapacityComparison,
  formatCapacityValue,
  type CapacityComparison,
  type CapacityComparisonRow,
  type CapacityUnit,
  type CompareCapacityOptions,
} from './compare-capacity.js';
