import type { DeviceAddress, DeviceId, UserId } from '../core/ids.js';

export interface DeviceRecord {
  userId: UserId;
  deviceId: DeviceId;
  linkedAtMs: number;
  pushToken?: string;
}

export type LinkOutcome = 'linked' | 'already-linked' | 'limit-reached';

/** Users and their linked devices. A user exists once one of their devices has been linked. */
export interface DirectoryStore {
  /** Links the device unless the user already has `devicesPerUserMax` others. */
  linkDevice(device: DeviceAddress, atMs: number, devicesPerUserMax: number): Promise<LinkOutcome>;
  /** Unlinks the device; tokens issued before `atMs` are refused afterwards. */
  unlinkDevice(device: DeviceAddress, atMs: number): Promise<void>;
  /** When the device was last unlinked, if ever (tokens issued earlier are dead). */
  unlinkedAtMs(device: DeviceAddress): Promise<number | undefined>;
  getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined>;
  listDevices(userId: UserId): Promise<DeviceRecord[]>;
  /**
   * `listDevices` of several users as one batch from the caller's view (a fan-out asks for a whole
   * group at once). Every asked user is a key of the answer; an unknown one maps to [].
   */
  listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>>;
  userExists(userId: UserId): Promise<boolean>;
  setPushToken(device: DeviceAddress, token: string | undefined): Promise<void>;
}
