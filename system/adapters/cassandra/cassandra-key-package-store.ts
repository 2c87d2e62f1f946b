/**
 * The MLS key directory on Cassandra. Three tables, one partition per device in each:
 *
 * - `key_packages`: the unclaimed single-use packages. A claim reads a few candidates at SERIAL
 *   consistency and deletes one with `DELETE … IF EXISTS`; only the claimer whose delete applied
 *   hands the package out, so racing claims on any number of gateways never share a package.
 * - `key_package_ids`: every package id the device ever uploaded, inserted `IF NOT EXISTS` before
 *   the package enters the pool. A retried upload (or a replay of an old one) finds its ids there
 *   and adds nothing, so a package that was claimed can never come back into the pool.
 * - `key_package_last_resort`: the reusable fallback, one row per device.
 *
 * The per-device limit is checked by counting the pool before inserting; uploads of one device
 * are serialized in this process, so only simultaneous uploads of the same device on different
 * gateways could pass it, by at most one upload's worth.
 */
import type { DeviceAddress } from '../../core/ids.js';
import { KeyedSerializer } from '../../core/keyed-serializer.js';
import { deviceKey } from '../../core/ids.js';
import type {
  AddKeyPackagesOutcome,
  ClaimedKeyPackage,
  KeyPackageCount,
  KeyPackageStore,
  StoredKeyPackage,
} from '../../ports/key-package-store.js';
import { limitParam, optText, type Cql, type Row } from './cql.js';
import { isStorageOutage, storageUnavailable } from './storage-errors.js';

/** Candidates read per claim round: racing claimers pick different ones among them. */
const CLAIM_CANDIDATES = 16;
/** Claim rounds before giving up (each lost race removes a candidate; each round re-reads). */
const CLAIM_ROUNDS_MAX = 20;

export class CassandraKeyPackageStore implements KeyPackageStore {
  private readonly uploads = new KeyedSerializer();
  private readonly q: ReturnType<typeof keyPackageStatements>;

  constructor(private readonly cql: Cql) {
    this.q = keyPackageStatements(cql);
  }

  add(device: DeviceAddress, packages: readonly StoredKeyPackage[], perDeviceMax: number): Promise<AddKeyPackagesOutcome> {
    return this.uploads.run(deviceKey(device), async () => {
      const pooled = await this.cql.read(this.q.readPoolIds, [device.userId, device.deviceId, limitParam(perDeviceMax + 1)]);
      const unique = [...new Map(packages.map((p) => [p.id, p])).values()];
      const pooledIds = new Set(pooled.map((r) => String(r.get('kp_id'))));
      const candidates = unique.filter((p) => !pooledIds.has(p.id));
      if (pooled.length + candidates.length > perDeviceMax) return 'limit-reached';
      for (const p of candidates) {
        const registered = await this.cql.lwt(this.q.registerId, [device.userId, device.deviceId, p.id]);
        // Seen before: already pooled, or claimed long ago. Either way it must not be pooled again.
        if (!registered.applied) continue;
        await this.cql.write(this.q.insertPool, [device.userId, device.deviceId, p.id, Buffer.from(p.keyPackageBase64, 'base64')], true);
      }
      return 'added';
    });
  }

  async setLastResort(device: DeviceAddress, keyPackage: StoredKeyPackage): Promise<void> {
    await this.cql.write(
      this.q.writeLastResort,
      [device.userId, device.deviceId, keyPackage.id, Buffer.from(keyPackage.keyPackageBase64, 'base64')],
      true,
    );
  }

  async claim(device: DeviceAddress): Promise<ClaimedKeyPackage | undefined> {
    for (let round = 0; round < CLAIM_ROUNDS_MAX; round++) {
      const rows = await this.cql.read(
        this.q.readPool,
        [device.userId, device.deviceId, CLAIM_CANDIDATES],
        this.cql.settings.serialConsistency,
      );
      if (rows.length === 0) return this.lastResort(device);
      // Start at a random candidate so racing claimers mostly try different rows.
      const start = Math.floor(Math.random() * rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[(start + i) % rows.length]!;
        if (await this.take(device, row)) return { ...packageOf(row), lastResort: false };
      }
    }
    throw storageUnavailable(
      `could not claim a KeyPackage of ${deviceKey(device)} after ${CLAIM_ROUNDS_MAX} rounds (heavy contention); retry`,
    );
  }

  async count(device: DeviceAddress): Promise<KeyPackageCount> {
    const [pool, lastResort] = await Promise.all([
      this.cql.collect(this.q.readPoolIds, [device.userId, device.deviceId, limitParam(Number.MAX_SAFE_INTEGER)], Number.MAX_SAFE_INTEGER),
      this.cql.readOne(this.q.readLastResort, [device.userId, device.deviceId]),
    ]);
    return { available: pool.length, lastResort: lastResort !== undefined };
  }

  async clear(device: DeviceAddress): Promise<void> {
    await this.cql.write(this.q.deletePool, [device.userId, device.deviceId], true);
    await this.cql.write(this.q.deleteLastResort, [device.userId, device.deviceId], true);
  }

  /** Deletes the row if it is still there; true when this call's delete is the one that applied. */
  private async take(device: DeviceAddress, row: Row): Promise<boolean> {
    const id = String(row.get('kp_id'));
    try {
      return (await this.cql.lwt(this.q.takeFromPool, [device.userId, device.deviceId, id])).applied;
    } catch (error) {
      // Outcome unknown (a timeout). Not handing the package out is the safe side: at worst the
      // device loses one package, never does a package reach two claimers.
      if (isStorageOutage(error)) return false;
      throw error;
    }
  }

  private async lastResort(device: DeviceAddress): Promise<ClaimedKeyPackage | undefined> {
    const row = await this.cql.readOne(this.q.readLastResort, [device.userId, device.deviceId]);
    return row && { ...packageOf(row), lastResort: true };
  }
}

function packageOf(row: Row): StoredKeyPackage {
  const bytes = row.get('key_package') as Buffer;
  return { id: optText(row.get('kp_id')) ?? '', keyPackageBase64: bytes.toString('base64') };
}

function keyPackageStatements(cql: Cql) {
  const pool = cql.table('key_packages');
  const ids = cql.table('key_package_ids');
  const lastResort = cql.table('key_package_last_resort');
  return {
    readPoolIds: `SELECT kp_id FROM ${pool} WHERE user_id = ? AND device_id = ? LIMIT ?`,
    readPool: `SELECT kp_id, key_package FROM ${pool} WHERE user_id = ? AND device_id = ? LIMIT ?`,
    registerId: `INSERT INTO ${ids} (user_id, device_id, kp_id) VALUES (?, ?, ?) IF NOT EXISTS`,
    insertPool: `INSERT INTO ${pool} (user_id, device_id, kp_id, key_package) VALUES (?, ?, ?, ?)`,
    takeFromPool: `DELETE FROM ${pool} WHERE user_id = ? AND device_id = ? AND kp_id = ? IF EXISTS`,
    deletePool: `DELETE FROM ${pool} WHERE user_id = ? AND device_id = ?`,
    writeLastResort: `INSERT INTO ${lastResort} (user_id, device_id, kp_id, key_package) VALUES (?, ?, ?, ?)`,
    readLastResort: `SELECT kp_id, key_package FROM ${lastResort} WHERE user_id = ? AND device_id = ?`,
    deleteLastResort: `DELETE FROM ${lastResort} WHERE user_id = ? AND device_id = ?`,
  };
}
