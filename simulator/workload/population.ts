import type { Scenario } from '../../scenarios/format/index.js';
import { sample, type Uniform } from '../engine/sample.js';
import { mixSeed } from '../../system/adapters/virtual/seed-streams.js';

/**
 * Every virtual user in compact typed arrays: how many devices, how active, which groups. An
 * offline user costs these few bytes (plus what the stores hold for them); objects exist only
 * for devices that are online.
 */
export class Population {
  readonly users: number;
  readonly devices: number;
  /** First device index of each user; user u owns devices firstDevice[u] … firstDevice[u+1]-1. */
  readonly firstDevice: Int32Array;
  readonly userOfDevice: Int32Array;
  readonly activity: Float32Array;
  /** Group g's members are groupMembers[groupStart[g] … groupStart[g+1]-1]; hot groups come last. */
  readonly groupStart: Int32Array;
  readonly groupMembers: Int32Array;
  /** User u's groups are userGroups[userGroupStart[u] … userGroupStart[u+1]-1]. */
  readonly userGroupStart: Int32Array;
  readonly userGroups: Int32Array;
  readonly groupCount: number;
  /** Index of the first hot group; hot group h is group hotFirst + h. */
  readonly hotFirst: number;
  /** Cumulative share of group traffic of each hot group (for one draw). */
  readonly hotCumulativeShare: number[];
  /** Conversation id of each group once created. */
  readonly groupConversation: string[] = [];
  private readonly contactsPerUser: number;
  private readonly contactSeed: number;

  constructor(scenario: Scenario, rng: Uniform, seed: number) {
    const users = scenario.population.users;
    this.users = users;
    this.contactsPerUser = Math.min(scenario.sim.clients.contacts_per_user, Math.max(1, users - 1));
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

    this.activity = new Float32Array(users);
    for (let u = 0; u < users; u++) this.activity[u] = Math.max(1e-6, sample(scenario.traffic.activity, rng));

    // Groups: ordinary ones (per_user × users, sizes from the distribution), then the hot ones.
    const ordinary = users >= 3 ? Math.round(users * scenario.groups.per_user) : 0;
    const hot = users >= 2 ? scenario.groups.hot : [];
    const sizes: number[] = [];
    for (let g = 0; g < ordinary; g++) sizes.push(clampSize(Math.round(sample(scenario.groups.size, rng)), users));
    for (const h of hot) sizes.push(clampSize(h.size, users));
    this.groupCount = sizes.length;
    this.hotFirst = ordinary;
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

  deviceNo(device: number): number {
    return device - this.firstDevice[this.userOfDevice[device]!]!;
  }

  groupSize(g: number): number {
    return this.groupStart[g + 1]! - this.groupStart[g]!;
  }

  /**
   * The k-th 1:1 partner of a user (k < contactsPerUser): derived from a hash, so the social
   * graph costs no memory. Lower k are the user's most frequent partners.
   */
  contact(user: number, k: number): number {
    const h = mixSeed(this.contactSeed ^ user, String(k)) % (this.users - 1);
    return (user + 1 + h) % this.users;
  }

  get contactCount(): number {
    return this.contactsPerUser;
  }

  /** Approximate bytes of the typed arrays (for the bytes-per-user figure). */
  get arrayBytes(): number {
    return [this.firstDevice, this.userOfDevice, this.activity, this.groupStart, this.groupMembers, this.userGroupStart, this.userGroups].reduce(
      (sum, a) => sum + a.byteLength,
      0,
    );
  }
}

function clampSize(size: number, users: number): number {
  return Math.max(2, Math.min(256, users, size));
}
