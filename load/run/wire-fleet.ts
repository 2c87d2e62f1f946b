import { DeviceFleet } from '../device-fleet.js';
import { EncryptionLayer } from '../encryption.js';
import { planEncryption } from '../encryption-plan.js';
import { MediaDownloads } from '../media-downloads.js';
import { TrafficGenerator } from '../traffic.js';
import type { RunInstruments } from './instruments.js';
import type { ShardPopulation } from './population.js';
import type { ReachedTarget } from './reach-target.js';
import type { RunSettings } from './run-settings.js';

/** The shard's devices and what their events go to. */
export interface WiredFleet {
  /** The end-to-end encrypted share (traffic.encrypted_share), when there is one. */
  readonly encryption: EncryptionLayer | undefined;
  readonly downloads: MediaDownloads;
  /** One virtual device per planned device of this shard, each a real SDK client once connected. */
  readonly fleet: DeviceFleet;
  readonly traffic: TrafficGenerator;
}

/**
 * The device fleet of this shard on the target, with its events wired to the traffic generator
 * (acks, deliveries, receipts), the media downloads, the measurements and, for the encrypted
 * share, the MLS sessions. Nothing connects yet.
 */
export function wireFleet(
  settings: RunSettings,
  target: ReachedTarget,
  instruments: RunInstruments,
  population: ShardPopulation,
): WiredFleet {
  const { scenario, options, log, live, shard, runId } = settings;
  const { observer, measurements, history } = instruments;
  const { plan, shardPlan, random } = population;
  const encryption =
    scenario.traffic.encrypted_share > 0 ? new EncryptionLayer(planEncryption(scenario, plan, shard), measurements, log) : undefined;

  const downloads = new MediaDownloads(
    live.media_downloads,
    random,
    measurements,
    (id) => encryption?.isEncryptedConversation(id) ?? false,
  );
  // The fleet's handlers reach the traffic generator, which needs the fleet: tied after both exist.
  const handlersTo: { traffic?: TrafficGenerator } = {};
  const fleet = new DeviceFleet(shardPlan.users, {
    targets: target.targets,
    tokenFor: target.tokenFor,
    history,
    ...(live.source_addresses ? { sourceAddresses: live.source_addresses } : {}),
    validateFrames: live.validate_frames,
    presence: live.presence,
    pushTokens: live.push_tokens,
    ...(encryption ? { onClient: (device, client) => encryption.attach(device, client) } : {}),
    handlers: {
      event: (device, event, via) => {
        handlersTo.traffic?.onEvent(device, event, via);
        downloads.onEvent(device, event);
      },
      receipt: (device, receipt) => handlersTo.traffic?.onReceipt(device, receipt),
      connections: (open) => observer.connections(open),
      error: (code) => measurements.onError(code),
      refused: (code) => measurements.onRefused(code),
    },
  });
  const traffic = new TrafficGenerator({
    scenario,
    runId,
    plan,
    shardPlan,
    fleet,
    measurements,
    random,
    ...(encryption ? { encryption } : {}),
    ...(options.plaintextMarker ? { plaintextMarker: options.plaintextMarker } : {}),
  });
  handlersTo.traffic = traffic;
  return { encryption, downloads, fleet, traffic };
}
