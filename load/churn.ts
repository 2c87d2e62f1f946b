import type { Scenario } from '../scenarios/format/index.js';
import { meanOf } from '../scenarios/format/index.js';
import { isChatClientError } from '../sdk/index.js';
import type { Random } from '../system/ports/random.js';
import type { DeviceFleet, VirtualDevice } from './device-fleet.js';
import { sample } from '../scenarios/plan/index.js';

/** Above this online share, devices simply stay connected (offline gaps would be ~0 s). */
const ALWAYS_ONLINE_SHARE = 0.999;

/**
 * Devices coming and going during the traffic phase, as the scenario's population says: each
 * device alternates online sessions (session_length_s) and offline gaps whose mean keeps the
 * online share at online_share (gap mean = session mean × (1 − share) / share).
 */
export class Churn {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;
  disconnects = 0;
  reconnects = 0;
  reconnectFailures = 0;

  constructor(
    private readonly fleet: DeviceFleet,
    private readonly scenario: Scenario,
    private readonly random: Random,
    /** Devices that stay online throughout (encrypted devices: their MLS state lives in their client's session). */
    private readonly exempt: (device: VirtualDevice) => boolean = () => false,
  ) {}

  /** Sets each device online or offline at random by the share, and schedules its changes. */
  start(): void {
    const share = this.scenario.population.online_share;
    for (const device of this.fleet.devices) {
      if (share >= ALWAYS_ONLINE_SHARE || this.exempt(device)) continue;
      if (this.random.nextFloat() < share) this.schedule(device, 'offline', this.sessionS());
      else {
        this.fleet.disconnect(device);
        this.schedule(device, 'online', this.offlineGapS());
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(device: VirtualDevice, next: 'online' | 'offline', afterS: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      if (next === 'offline') {
        this.fleet.disconnect(device);
        this.disconnects++;
        this.schedule(device, 'online', this.offlineGapS());
      } else {
        this.fleet.connect(device).then(
          () => this.reconnects++,
          // CLOSED: our own churn took the device offline again before it finished connecting.
          (error: unknown) => {
            if (!isChatClientError(error) || error.code !== 'CLOSED') this.reconnectFailures++;
          },
        );
        this.schedule(device, 'offline', this.sessionS());
      }
    }, afterS * 1000);
    this.timers.add(timer);
  }

  private sessionS(): number {
    return sample(this.scenario.population.session_length_s, this.random);
  }

  private offlineGapS(): number {
    const share = Math.max(1e-3, this.scenario.population.online_share);
    const meanS = (meanOf(this.scenario.population.session_length_s) * (1 - share)) / share;
    return -meanS * Math.log(1 - this.random.nextFloat());
  }
}
