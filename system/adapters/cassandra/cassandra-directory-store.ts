/**
 * Users and devices. A user's devices are one partition of `user_devices`; every write to it is a
 * lightweight transaction, so the device limit holds under concurrent links from several
 * processes: a link reads the partition serially, then inserts the device in a conditional batch
 * that also replaces the static `version` (IF version = the one read). A user exists once that
 * static column is set, i.e. after their first successful link, and stays after every device is
 * unlinked. Unlink times live in `device_unlinks`, written with the unlink time as timestamp so the
 * latest unlink wins.
 */
import type { DeviceAddress, UserId } from '../../core/ids.js';
import { KeyedSerializer } from '../../core/keyed-serializer.js';
import type { DeviceRecord, DirectoryStore, LinkOutcome } from '../../ports/directory-store.js';
import { forEachLimited, newUuid, num, optNum, optText, sameUuid, type Cql, type Row } from './cql.js';
import { isStorageOutage, storageUnavailable } from './storage-errors.js';

/** Conditional-batch attempts of one link (each lost race re-reads the devices). */
const LINK_ATTEMPTS_MAX = 50;

/** Reads in flight for one listDevicesMany: a full group's members (256, one partition each) at once. */
const DEVICE_READS_IN_FLIGHT = 256;

export class CassandraDirectoryStore implements DirectoryStore {
  /** Links of one user run one at a time in this process, sparing Paxos the contention. */
  private readonly serializer = new KeyedSerializer();
  private readonly q: ReturnType<typeof directoryStatements>;

  constructor(private readonly cql: Cql) {
    this.q = directoryStatements(cql);
  }

  linkDevice(device: DeviceAddress, atMs: number, devicesPerUserMax: number): Promise<LinkOutcome> {
    return this.serializer.run(device.userId, async () => {
      for (let attempt = 1; attempt <= LINK_ATTEMPTS_MAX; attempt++) {
        const rows = await this.cql.read(this.q.readDevices, [device.userId], this.cql.settings.serialConsistency);
        const version = rows[0]?.get('version') ?? null;
        const linked = linkedDeviceIds(rows);
        if (linked.includes(device.deviceId)) return 'already-linked';
        if (linked.length >= devicesPerUserMax) return 'limit-reached';
        const next = newUuid();
        try {
          const outcome = await this.cql.lwtBatch([
            { query: this.q.bumpVersion, params: [next, device.userId, version] },
            { query: this.q.insertDevice, params: [device.userId, device.deviceId, atMs] },
          ]);
          if (outcome.applied) return 'linked';
        } catch (error) {
          if (!isStorageOutage(error)) throw error;
          // Outcome unknown: a serial read settles it; our version in place means our link applied.
          const after = await this.cql.read(this.q.readDevices, [device.userId], this.cql.settings.serialConsistency);
          if (sameUuid(after[0]?.get('version'), next)) return 'linked';
          throw error;
        }
      }
      throw storageUnavailable(
        `could not link ${device.userId}/${device.deviceId} after ${LINK_ATTEMPTS_MAX} attempts (concurrent changes); retry`,
      );
    });
  }

  async unlinkDevice(device: DeviceAddress, atMs: number): Promise<void> {
    // The unlink time first: once the device is gone, its older tokens are already refused.
    await this.cql.write(this.q.writeUnlinked, [atMs * 1000, atMs, device.userId, device.deviceId], true);
    await this.cql.lwt(this.q.deleteDevice, [device.userId, device.deviceId]);
  }

  async unlinkedAtMs(device: DeviceAddress): Promise<number | undefined> {
    const row = await this.cql.readOne(this.q.readUnlinked, [device.userId, device.deviceId]);
    return optNum(row?.get('unlinked_at_ms'));
  }

  async getDevice(device: DeviceAddress): Promise<DeviceRecord | undefined> {
    const row = await this.cql.readOne(this.q.readDevice, [device.userId, device.deviceId]);
    return row && optNum(row.get('linked_at_ms')) !== undefined ? deviceRecord(device.userId, device.deviceId, row) : undefined;
  }

  async listDevices(userId: UserId): Promise<DeviceRecord[]> {
    const rows = await this.cql.read(this.q.readDevices, [userId]);
    return rows
      .filter((r) => optText(r.get('device_id')) !== undefined && optNum(r.get('linked_at_ms')) !== undefined)
      .map((r) => deviceRecord(userId, String(r.get('device_id')), r));
  }

  /** Concurrent single-partition reads, at most DEVICE_READS_IN_FLIGHT at once. */
  async listDevicesMany(userIds: readonly UserId[]): Promise<Map<UserId, DeviceRecord[]>> {
    const users = [...new Set(userIds)];
    const lists: DeviceRecord[][] = new Array(users.length);
    await forEachLimited(
      users.map((userId, index) => ({ userId, index })),
      DEVICE_READS_IN_FLIGHT,
      async ({ userId, index }) => {
        lists[index] = await this.listDevices(userId);
      },
    );
    // Keys in the order asked, whatever order the reads finished in.
    return new Map(users.map((userId, index) => [userId, lists[index]!]));
  }

  async userExists(userId: UserId): Promise<boolean> {
    const row = await this.cql.readOne(this.q.readVersion, [userId]);
    return row?.get('version') != null;
  }

  async setPushToken(device: DeviceAddress, token: string | undefined): Promise<void> {
    // IF EXISTS: a device that is not linked gets no row (and its user does not come to exist).
    await this.cql.lwt(this.q.setPushToken, [token ?? null, device.userId, device.deviceId]);
  }
}

function linkedDeviceIds(rows: Row[]): string[] {
  return rows
    .filter((r) => optText(r.get('device_id')) !== undefined && optNum(r.get('linked_at_ms')) !== undefined)
    .map((r) => String(r.get('device_id')));
}

function deviceRecord(userId: UserId, deviceId: string, row: Row): DeviceRecord {
  const record: DeviceRecord = { userId, deviceId, linkedAtMs: num(row.get('linked_at_ms')) };
  const pushToken = optText(row.get('push_token'));
  if (pushToken !== undefined) record.pushToken = pushToken;
  return record;
}

function directoryStatements(cql: Cql) {
  const devices = cql.table('user_devices');
  const unlinks = cql.table('device_unlinks');
  return {
    // A user has at most devicesPerUserMax devices: the partition is small.
    readDevices: `SELECT device_id, linked_at_ms, push_token, version FROM ${devices} WHERE user_id = ?`,
    readDevice: `SELECT linked_at_ms, push_token FROM ${devices} WHERE user_id = ? AND device_id = ?`,
    readVersion: `SELECT version FROM ${devices} WHERE user_id = ? LIMIT 1`,
    bumpVersion: `UPDATE ${devices} SET version = ? WHERE user_id = ? IF version = ?`,
    insertDevice: `INSERT INTO ${devices} (user_id, device_id, linked_at_ms) VALUES (?, ?, ?)`,
    deleteDevice: `DELETE FROM ${devices} WHERE user_id = ? AND device_id = ? IF EXISTS`,
    setPushToken: `UPDATE ${devices} SET push_token = ? WHERE user_id = ? AND device_id = ? IF EXISTS`,
    // Timestamp = unlink time (µs): the latest unlink wins whatever the arrival order.
    writeUnlinked: `UPDATE ${unlinks} USING TIMESTAMP ? SET unlinked_at_ms = ? WHERE user_id = ? AND device_id = ?`,
    readUnlinked: `SELECT unlinked_at_ms FROM ${unlinks} WHERE user_id = ? AND device_id = ?`,
  };
}
