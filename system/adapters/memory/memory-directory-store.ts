import { deviceKey, type DeviceAddress, type UserId } from '../../core/ids.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';

/**
 * Users and their devices in memory. A user has a handful of devices at most, so each user's are
 * a small array in link order (a Map per user would cost several times more: the simulator keeps
 * a million users here).
 */
export class MemoryDirectoryStore implements DirectoryStore {
  private readonly devicesByUser = new Map<UserId, DeviceRecord[]>();
  private readonly unlinked = new Map<string, number>();

  async linkDevice(device: DeviceAddress, atMs: number, devicesPerUserMax: number): Promise<LinkOutcome> {
    // The user's entry is created only by a successful link: a refused one must not make the user exist.
    const devices = this.devicesByUser.get(device.userId);
    if (devices && find(devices, device.deviceId)) return 'already-linked';
    if ((devices?.length ?? 0) >= devicesPerUserMax) return 'limit-reached';
    const record: DeviceRecord = { userId: device.userId, deviceId: device.deviceId, linkedAtMs: atMs };
    // A literal of one element is allocated at that size; push() onto [] would reserve 17 slots.
    if (devices) devices.push(record);
    else this.devicesByUser.set(device.userId, [record]);
    return 'linked';
  }

  async unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    // The user keeps existing (an empty list) after their last device goes.
    const devices = this.devicesByUser.get(device.userId);
    const index = devices ? devices.findIndex((d) => d.deviceId === device.deviceId) : -1;
    if (index >= 0) devices!.splice(index, 1);
    this.unlinked.set(deviceKey(device), atMs);
  }

  async unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    return this.unlinked.get(deviceKey(device));
  }

  async getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    const record = find(this.devicesByUser.get(device.userId), device.deviceId);
    return record && { ...record };
  }

  async listDevices(userId: UserId): Promise<DeviceRecord[]> {
    return this.copyOfDevices(userId);
  }

  async listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    const found = new Map<UserId, DeviceRecord[]>();
    for (const userId of userIds) if (!found.has(userId)) found.set(userId, this.copyOfDevices(userId));
    return found;
  }

  /** Copies, so a caller cannot change the stored records. */
  private copyOfDevices(userId: UserId): DeviceRecord[] {
    return (this.devicesByUser.get(userId) ?? []).map((d) => ({ ...d }));
  }

  async userExists(userId: UserId): Promise<boolean> {
    return this.devicesByUser.has(userId);
  }

  async setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    const record = find(this.devicesByUser.get(device.userId), device.deviceId);
    if (!record) return;
    if (token === undefined) delete record.pushToken;
    else record.pushToken = token;
  }
}

function find(devices: DeviceRecord[] | undefined, deviceId: string): DeviceRecord | undefined {
  if (!devices) return undefined;
  for (const d of devices) if (d.deviceId === deviceId) return d;
  return undefined;
}
