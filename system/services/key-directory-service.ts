import { ChatError } from '../core/errors.js';
import { deviceKey, type DeviceAddress, type UserId } from '../core/ids.js';
import type { KeyPackageCount, KeyPackageStore, StoredKeyPackage } from '../ports/key-package-store.js';
import { mlsIdentity } from '../protocol/mls.js';
import type { Caller } from './caller.js';
import type { CoreDeps } from './deps.js';
import { KeyPackageClaimLimiter } from './key-package-claim-limiter.js';
import type { KeyPackageInspector } from './key-package-inspector.js';

export interface ClaimedDevicePackage {
  userId: UserId;
  deviceId: string;
  keyPackageBase64: string;
  /** The device's reusable last-resort package: it had no single-use one left. */
  lastResort: boolean;
}

export interface ClaimResult {
  keyPackages: ClaimedDevicePackage[];
  /** Linked devices that have no package at all (they never uploaded one): they cannot be added yet. */
  missing: DeviceAddress[];
}

/** Claims run at most this many store calls at once (a 256-user claim is up to 1280 devices). */
const CLAIM_CONCURRENCY = 32;

/**
 * The MLS key directory (the delivery service's and authentication service's server half):
 * devices upload KeyPackages whose credential must name the uploading device; others claim one
 * package per device of a user, each single-use package handed out once, with a last-resort
 * package when a device's pool is empty.
 */
export class KeyDirectoryService {
  private readonly limiter: KeyPackageClaimLimiter;
  private readonly deps: Pick<CoreDeps, 'clock' | 'limits' | 'directory'> & { keyPackages: KeyPackageStore };

  constructor(
    deps: Pick<CoreDeps, 'clock' | 'limits' | 'directory' | 'keyPackages'>,
    private readonly inspector: KeyPackageInspector,
  ) {
    this.deps = { ...deps, keyPackages: deps.keyPackages ?? noKeyDirectory };
    this.limiter = new KeyPackageClaimLimiter(deps.clock, () => deps.limits.keyPackageClaimsPerMinute);
  }

  /**
   * Checks every package first and stores only when all pass: a bad upload stores nothing, so
   * the client can fix it and resend the whole batch.
   */
  async upload(caller: Caller, keyPackagesBase64: readonly string[], lastResortBase64: string | undefined): Promise<KeyPackageCount> {
    const { limits } = this.deps;
    if (keyPackagesBase64.length === 0 && lastResortBase64 === undefined) {
      throw new ChatError('INVALID_FIELD', 'kp_upload: send at least one of keyPackages and lastResort');
    }
    if (keyPackagesBase64.length > limits.keyPackagesPerUploadMax) {
      throw new ChatError(
        'INVALID_FIELD',
        `kp_upload: keyPackages has ${keyPackagesBase64.length} entries; keyPackagesPerUploadMax is ${limits.keyPackagesPerUploadMax}`,
      );
    }
    const packages = [];
    for (const [index, base64] of keyPackagesBase64.entries()) packages.push(await this.checked(caller, base64, `keyPackages[${index}]`));
    const lastResort = lastResortBase64 === undefined ? undefined : await this.checked(caller, lastResortBase64, 'lastResort');
    if (packages.length > 0) {
      const outcome = await this.deps.keyPackages.add(caller, packages, limits.keyPackagesPerDeviceMax);
      if (outcome === 'limit-reached') {
        const { available } = await this.deps.keyPackages.count(caller);
        throw new ChatError(
          'KEY_PACKAGE_LIMIT',
          `this device holds ${available} unclaimed KeyPackages; ${packages.length} more would pass keyPackagesPerDeviceMax (${limits.keyPackagesPerDeviceMax})`,
        );
      }
    }
    if (lastResort) await this.deps.keyPackages.setLastResort(caller, lastResort);
    return this.deps.keyPackages.count(caller);
  }

  count(caller: Caller): Promise<KeyPackageCount> {
    return this.deps.keyPackages.count(caller);
  }

  /**
   * One package for every linked device of each user, except the devices listed in `except`
   * (typically those already in the group) and the calling device itself.
   */
  async claim(caller: Caller, userIds: readonly UserId[], except: readonly DeviceAddress[] = []): Promise<ClaimResult> {
    const { limits, directory, keyPackages } = this.deps;
    const users = [...new Set(userIds)];
    if (users.length > limits.keyPackageClaimUsersMax) {
      throw new ChatError('INVALID_FIELD', `kp_claim: ${users.length} users; keyPackageClaimUsersMax is ${limits.keyPackageClaimUsersMax}`);
    }
    const skip = new Set([...except.map(deviceKey), deviceKey(caller)]);
    const devices: DeviceAddress[] = [];
    for (const userId of users) {
      if (!(await directory.userExists(userId))) throw new ChatError('UNKNOWN_USER', `kp_claim: user ${userId} does not exist`);
      for (const d of await directory.listDevices(userId)) {
        const device = { userId: d.userId, deviceId: d.deviceId };
        if (!skip.has(deviceKey(device))) devices.push(device);
      }
    }
    this.limiter.charge(caller, devices.length);
    const claimed: Array<ClaimedDevicePackage | DeviceAddress> = new Array(devices.length);
    let next = 0;
    const worker = async () => {
      while (next < devices.length) {
        const index = next++;
        const device = devices[index]!;
        const found = await keyPackages.claim(device);
        claimed[index] = found ? { ...device, keyPackageBase64: found.keyPackageBase64, lastResort: found.lastResort } : device;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CLAIM_CONCURRENCY, devices.length) }, worker));
    const result: ClaimResult = { keyPackages: [], missing: [] };
    for (const entry of claimed) {
      if ('keyPackageBase64' in entry) result.keyPackages.push(entry);
      else result.missing.push(entry);
    }
    return result;
  }

  /** The device was unlinked: its packages must not be handed out any more. */
  forgetDevice(device: DeviceAddress): Promise<void> {
    return this.deps.keyPackages.clear(device);
  }

  private async checked(caller: Caller, base64: string, field: string): Promise<StoredKeyPackage> {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.byteLength > this.deps.limits.keyPackageBytesMax) {
      throw new ChatError(
        'KEY_PACKAGE_INVALID',
        `kp_upload: ${field} is ${bytes.byteLength} bytes; keyPackageBytesMax is ${this.deps.limits.keyPackageBytesMax}`,
      );
    }
    let inspected;
    try {
      inspected = await this.inspector.inspect(bytes);
    } catch (error) {
      if (error instanceof ChatError) throw new ChatError(error.code, `kp_upload: ${field}: ${error.message}`);
      throw error;
    }
    if (inspected.identity !== mlsIdentity(caller)) {
      throw new ChatError(
        'KEY_PACKAGE_NOT_YOURS',
        `kp_upload: ${field} names "${inspected.identity}"; this connection is ${mlsIdentity(caller)}`,
      );
    }
    // Stored as sent (re-encoded from the decoded bytes, so any base64 variant reads back canonical).
    return { id: inspected.id, keyPackageBase64: bytes.toString('base64') };
  }
}

/** Stands in when a world was built without a key directory: every call says so. */
const noKeyDirectory: KeyPackageStore = {
  add: unavailable,
  setLastResort: unavailable,
  claim: unavailable,
  count: unavailable,
  clear: async () => undefined,
};

function unavailable(): Promise<never> {
  return Promise.reject(new ChatError('INTERNAL', 'this deployment has no MLS key directory'));
}
