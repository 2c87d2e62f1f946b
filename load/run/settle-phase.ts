import { nowEpochMs } from '../measurements.js';
import { waitForQuiescence, type QuiescenceResult } from '../quiescence.js';
import type { LoadRun } from './build-run.js';
import { CONNECT_TIMEOUT_MS } from './connect-fleet.js';

/** After settling, decryptions still in the MLS sessions' lanes get this long before they count as failures. */
const DECRYPT_DRAIN_MS = 10_000;

/** How the settle phase ended. */
export interface SettleOutcome {
  /** Devices that were offline at the end of the traffic and tried to connect again. */
  reconnectAttempts: number;
  quiescence: QuiescenceResult;
  /** Epoch ms when the run had settled (or the bound ran out). */
  settledAtMs: number;
}

/**
 * The settle phase: churn, membership changes and sends stop, every device comes back online, and
 * the run waits (at most `liveness_bound_s`) until every queued message is delivered; then the
 * `quiesce` event is recorded (from it, durability owes each connected device every acknowledged
 * message) and the time series takes its last sample.
 */
export async function settleRun(run: LoadRun): Promise<SettleOutcome> {
  const { settings, phase, churn, membershipChanges, traffic, fleet, measurements, encryption, downloads, history, sampler } = run;
  const { scenario, log, live } = settings;
  phase.enter('settle');
  churn.stop();
  await membershipChanges?.stop();
  await traffic.stop();
  const offline = fleet.devices.filter((d) => !d.client);
  await fleet.connectAll(offline, live.connect_concurrency, CONNECT_TIMEOUT_MS, () => measurements.onError('connect:settle'));
  const settling = fleet.devices.flatMap((d) =>
    d.client ? [{ client: d.client, sentTo: d.sentTo, removedFrom: (id: string) => traffic.isRemovedFrom(d.user.userId, id) }] : [],
  );
  const quiescence = await waitForQuiescence(settling, scenario.liveness_bound_s * 1000);
  if (encryption) await encryption.drain(DECRYPT_DRAIN_MS);
  await downloads.stop();
  log(
    quiescence.quiesced
      ? `settled in ${(quiescence.waitedMs / 1000).toFixed(1)} s`
      : `not settled after ${scenario.liveness_bound_s} s: ${quiescence.behind} device(s) behind, e.g. ${quiescence.examples.join('; ')}`,
  );
  history.record({
    type: 'quiesce',
    atMs: Date.now(),
    devices: fleet.devices.filter((d) => d.client?.state === 'connected').map((d) => ({ userId: d.user.userId, deviceId: d.deviceId })),
  });
  sampler.finish();
  return { reconnectAttempts: offline.length, quiescence, settledAtMs: nowEpochMs() };
}
