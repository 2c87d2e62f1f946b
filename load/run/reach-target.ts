import { startEmbeddedTarget, type EmbeddedTarget } from '../embedded-target.js';
import { devTokenProvider, httpUrlOf, signedTokenProvider } from '../tokens.js';
import type { TokenProvider } from '../types.js';
import type { RunSettings } from './run-settings.js';

/** The system the run drives and how its devices get tokens for it. */
export interface ReachedTarget {
  /** Gateway WebSocket URLs: the caller's, or the embedded system's one. */
  readonly targets: string[];
  readonly tokenFor: TokenProvider;
  /** The embedded system, when there were no targets. */
  readonly embedded: EmbeddedTarget | undefined;
  /** Whether this run started the embedded system, and so stops it (a caller's own outlives the run). */
  readonly ownsEmbedded: boolean;
}

/**
 * The target phase: the given gateways, or the embedded reference system (the caller's, else one
 * started here); tokens from the caller, signed with a known secret, or asked of `/dev/token`.
 */
export async function reachTarget(settings: RunSettings): Promise<ReachedTarget> {
  const { options, scenario, log } = settings;
  let embedded: EmbeddedTarget | undefined;
  let targets = options.targets ?? [];
  let tokenFor: TokenProvider | undefined = options.tokenFor;
  if (targets.length === 0) {
    embedded = options.embedded ?? (await startEmbeddedTarget());
    targets = [embedded.wsUrl];
    tokenFor ??= signedTokenProvider(embedded.tokenSecret);
    log(`embedded system on ${embedded.wsUrl} (one gateway; scenario topology ${scenario.topology.gateways})`);
  }
  tokenFor ??= options.tokenSecret ? signedTokenProvider(options.tokenSecret) : devTokenProvider(httpUrlOf(targets[0]!));
  return { targets, tokenFor, embedded, ownsEmbedded: embedded !== undefined && embedded !== options.embedded };
}

/**
 * Lets go of the target: the embedded system's recorded pushes are read (the one outcome the
 * clients cannot see, so read before it stops), then it is stopped if this run started it.
 * Returns those pushes (undefined for other targets, or when the embedded system does not answer).
 */
export async function releaseTarget(target: ReachedTarget): Promise<number | undefined> {
  const { embedded } = target;
  if (!embedded) return undefined;
  const pushesRecorded = await embedded.stats().then(
    (s) => s.pushesRecorded,
    () => undefined,
  );
  if (target.ownsEmbedded) await embedded.stop();
  return pushesRecorded;
}
