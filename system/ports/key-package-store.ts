import type { DeviceAddress } from '../core/ids.js';

/** One MLS KeyPackage as the key directory keeps it: opaque bytes plus the id it is known by. */
export interface StoredKeyPackage {
  /** The KeyPackage's reference (RFC 9420 §5.2, hex): the same bytes always get the same id. */
  id: string;
  /** The encoded KeyPackage (an MLSMessage of wire format mls_key_package), base64. */
  keyPackageBase64: string;
}

export interface ClaimedKeyPackage extends StoredKeyPackage {
  /** True when the device had no unclaimed package left and its last-resort one was handed out. */
  lastResort: boolean;
}

export interface KeyPackageCount {
  /** Unclaimed (single-use) packages. */
  available: number;
  /** Whether the device has a last-resort package. */
  lastResort: boolean;
}

export type AddKeyPackagesOutcome = 'added' | 'limit-reached';

/**
 * The MLS key directory's storage: per device, single-use KeyPackages and one reusable
 * last-resort KeyPackage. The contract that matters: a single-use package is handed out by
 * `claim` at most once, however many claims race, on however many gateways.
 */
export interface KeyPackageStore {
  /**
   * Adds single-use packages to the device's pool. Packages whose id is already in the pool are
   * ignored (a retried upload adds nothing). Answers 'limit-reached', adding none, when the pool
   * would then hold more than `perDeviceMax`.
   */
  add(device: DeviceAddress, packages: readonly StoredKeyPackage[], perDeviceMax: number): Promise<AddKeyPackagesOutcome>;
  /** Sets (replaces) the device's last-resort package. */
  setLastResort(device: DeviceAddress, keyPackage: StoredKeyPackage): Promise<void>;
  /**
   * Removes and returns one single-use package of the device; when none is left, returns the
   * last-resort package (not removed); undefined when the device has neither.
   */
  claim(device: DeviceAddress): Promise<ClaimedKeyPackage | undefined>;
  count(device: DeviceAddress): Promise<KeyPackageCount>;
  /** Forgets every package of the device (it was unlinked). */
  clear(device: DeviceAddress): Promise<void>;
}
