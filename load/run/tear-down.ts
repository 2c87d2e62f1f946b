import type { LoadRun } from './build-run.js';
import { releaseTarget } from './reach-target.js';

/**
 * The tear-down, after the run settled or failed: nothing keeps running (samples, churn, membership
 * changes, sends, downloads), every client is closed, the metrics are pushed a last time and no
 * longer served, and the target is let go (an embedded system this run started is stopped).
 * Returns the pushes the embedded system recorded (undefined for other targets).
 */
export async function tearDown(run: LoadRun): Promise<number | undefined> {
  run.sampler.stop();
  run.churn.stop();
  await run.membershipChanges?.stop();
  await run.traffic.stop();
  await run.downloads.stop();
  run.fleet.closeAll();
  await run.remoteWrite?.stop();
  await run.metrics.close();
  return releaseTarget(run.target);
}
