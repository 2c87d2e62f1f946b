import { mixSeed, streamOf } from '../../system/adapters/virtual/seed-streams.js';
import { defaultLimits } from '../../system/core/limits.js';
import type { Scenario } from '../format/index.js';
import { sample } from './sample.js';

/**
 * The population a scenario and a seed mean, for the simulator and the load driver alike: how
 * many devices each user has, how active each is, whom each writes to, which groups exist with
 * which members, and the share of group traffic each hot group takes. Built in compact typed
 * arrays (a few bytes per user, no object per user) so the simulator can hold a million users;
 * the load driver builds its per-user objects from it. Same scenario and seed → same population.
 *
 * Every draw comes from the seed's `population` stream in one fixed order (devices of every user,
 * then activity of every user, then group sizes, then group members), and contacts from a hash of
 * the seed: nothing else a tool draws can shift the population.
 */
export class PlannedPopulation {
  readonly users: number;
  readonly devices: number;
  /** First device index of each user; user u owns devices firstDevice[u] … firstDevice[u+1]-1. */
  readonly firstDevice: Int32Array;
  readonly userOfDevice: Int32Array;
  /** Relative send activity of each user (the scenario's `traffic.activity`, mean ≈ 1; > 0). */
  readonly activity: Float32Array;
  /** Group g's members are groupMembers[groupStart[g] … groupStart[g+1]-1], its creator first; hot groups come last. */
  readonly groupStart: Int32Array;
  readonly groupMembers: Int32Array;
  /** User u's groups are userGroups[userGroupStart[u] … userGroupStart[u+1]-1]. */
  readonly userGroupStart: Int32Array;
  readonly userGroups: Int32Array;
  readonly groupCount: number;
  /** Index of the first hot group; hot group h is group hotFirst + h. */
  readonly hotFirst: number;
  /** Share of all group messages each hot group takes (the scenario's `groups.hot[h].traffic_share`). */
  readonly hotTrafficShare: readonly number[];
  /** Cumulative share of group traffic of each hot group (for one draw). */
  readonly hotCumulativeShare: readonly number[];
  /** 1:1 partners per user (`population.contacts_per_user`, fewer in a tiny population). */
  readonly contactCount: number;
  private readonly contactSeed: number;

  constructor(scenario: Scenario, seed: number) {
    const rng = streamOf(seed, 'population');
    const users = scenario.population.users;
    this.users = users;
    this.contactCount = users < 2 ? 0 : Math.min(scenario.population.contacts_per_user, users - 1);
    this.contactSeed = mixSeed(seed, 'contacts');

    // Devices per user from the shares.
    const shares = scenario.population.devices_per_user;
    this.firstDevice = new Int32Array(users + 1);
    let devices = 0;
    for (let u = 0; u < users; u++) {
      this.firstDevice[u] = devices;
      let x = rng.nextFloat();
      let count = shares.length;
      for (let i = 0; i < shares.length; i++) {
        x -= shares[i]!;
        if (x < 0) {
          count = i + 1;
          break;
        }
      }
      devices += count;
    }
    this.firstDevice[users] = devices;
    this.devices = devices;
    this.userOfDevice = new Int32Array(devices);
    for (let u = 0; u < users; u++) for (let d = this.firstDevice[u]!; d < this.firstDevice[u + 1]!; d++) this.userOfDevice[d] = u;

    // A floor keeps every user's weight positive: weighted draws never meet a zero.
    this.activity = new Float32Array(users);
    for (let u = 0; u < users; u++) this.activity[u] = Math.max(1e-6, sample(scenario.traffic.activity, rng));

    // Groups: ordinary ones (per_user × users, sizes from the distribution), then the hot ones.
    const ordinary = users >= 3 ? Math.round(users * scenario.groups.per_user) : 0;
    const hot = users >= 2 ? scenario.groups.hot : [];
    const sizes: number[] = [];
    for (let g = 0; g < ordinary; g++) sizes.push(clampGroupSize(Math.round(sample(scenario.groups.size, rng)), users));
    for (const h of hot) sizes.push(clampGroupSize(h.size, users));
    this.groupCount = sizes.length;
    this.hotFirst = ordinary;
    this.hotTrafficShare = hot.map((h) => h.traffic_share);
    let cumulative = 0;
    this.hotCumulativeShare = hot.map((h) => (cumulative += h.traffic_share));
    this.groupStart = new Int32Array(this.groupCount + 1);
    let total = 0;
    for (let g = 0; g < this.groupCount; g++) {
      this.groupStart[g] = total;
      total += sizes[g]!;
    }
    this.groupStart[this.groupCount] = total;
    this.groupMembers = new Int32Array(total);
    const perUser = new Int32Array(users);
    for (let g = 0; g < this.groupCount; g++) {
      const start = this.groupStart[g]!;
      const size = sizes[g]!;
      // Distinct members by rejection: sizes are tiny next to the population.
      const chosen = new Set<number>();
      while (chosen.size < size) chosen.add(Math.floor(rng.nextFloat() * users));
      let k = 0;
      for (const u of chosen) {
        this.groupMembers[start + k++] = u;
        perUser[u]!++;
      }
    }
    this.userGroupStart = new Int32Array(users + 1);
    let running = 0;
    for (let u = 0; u < users; u++) {
      this.userGroupStart[u] = running;
      running += perUser[u]!;
    }
    this.userGroupStart[users] = running;
    this.userGroups = new Int32Array(running);
    const fill = this.userGroupStart.slice(0, users);
    for (let g = 0; g < this.groupCount; g++) {
      for (let i = this.groupStart[g]!; i < this.groupStart[g + 1]!; i++) {
        const u = this.groupMembers[i]!;
        this.userGroups[fill[u]!++] = g;
      }
    }
  }

  devicesOf(user: number): number {
    return this.firstDevice[user + 1]! - this.firstDevice[user]!;
  }

  /** The device's number among its user's devices (0 for the first). */
  deviceNo(device: number): number {
    return device - this.firstDevice[this.userOfDevice[device]!]!;
  }

  groupSize(g: number): number {
    return this.groupStart[g + 1]! - this.groupStart[g]!;
  }

  /** Group g's members, its creator first (a view on the shared array: no copy). */
  membersOf(g: number): Int32Array {
    return this.groupMembers.subarray(this.groupStart[g]!, this.groupStart[g + 1]!);
  }

  /** The share of all group messages group g takes when it is a hot group, else undefined. */
  trafficShareOf(g: number): number | undefined {
    return g >= this.hotFirst ? this.hotTrafficShare[g - this.hotFirst] : undefined;
  }

  /**
   * The k-th 1:1 partner of a user (k < contactCount): derived from a hash, so the social graph
   * costs no memory. Lower k are the user's most frequent partners (see pickContactRank). Never
   * the user; two ranks may name the same partner (who is then written to more often).
   */
  contact(user: number, k: number): number {
    const h = mixSeed(this.contactSeed ^ user, String(k)) % (this.users - 1);
    return (user + 1 + h) % this.users;
  }

  /** Bytes of the typed arrays (for the bytes-per-user figure). */
  get arrayBytes(): number {
    return [
      this.firstDevice,
      this.userOfDevice,
      this.activity,
      this.groupStart,
      this.groupMembers,
      this.userGroupStart,
      this.userGroups,
    ].reduce((sum, a) => sum + a.byteLength, 0);
  }
}

/** A group has 2 members at least, and at most the whole population or the server's limit. */
function clampGroupSize(size: number, users: number): number {
  return Math.max(2, Math.min(defaultLimits.groupMembersMax, users, size));
}
