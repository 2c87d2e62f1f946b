import { deviceKey, type DeviceAddress, type UserId } from '../../core/ids.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';

export class MemoryDirectoryStore implements DirectoryStore {
  private readonly devicesByUser = new Map<UserId, Map<string, DeviceRecord>>();
  private readonly unlinked = new Map<string, number>();

  async linkDevice(device: DeviceAddress, atMs: number, devicesPerUserMax: number): Promise<LinkOutcome> {
    // The user's entry is created only by a successful link: a refused one must not make the user exist.
    let devices = this.devicesByUser.get(device.userId);
    if (devices?.has(device.deviceId)) return 'already-linked';
    if ((devices?.size ?? 0) >= devicesPerUserMax) return 'limit-reached';
    if (!devices) {
      devices = new Map();
      this.devicesByUser.set(device.userId, devices);
    }
    devices.set(device.deviceId, { userId: device.userId, deviceId: device.deviceId, linkedAtMs: atMs });
    return 'linked';
  }

  async unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    this.devicesByUser.get(device.userId)?.delete(device.deviceId);
    this.unlinked.set(deviceKey(device), atMs);
  }

  async unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    return this.unlinked.get(deviceKey(device));
  }

  async getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    const record = this.devicesByUser.get(device.userId)?.get(device.deviceId);
    return record && { ...record };
  }

  async listDevices(userId: UserId): Promise<DeviceRecord[]> {
    return [...(this.devicesByUser.get(userId)?.values() ?? [])].map((d) => ({ ...d }));
  }

  async userExists(userId: UserId): Promise<boolean> {
    return this.devicesByUser.has(userId);
  }

  async setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    const record = this.devicesByUser.get(device.userId)?.get(device.deviceId);
    if (!record) return;
    if (token === undefined) delete record.pushToken;
    else record.pushToken = token;
  }
}
