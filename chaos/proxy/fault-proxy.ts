/**
 * What the drills need from a fault-injecting TCP proxy sitting between the gateways and one
 * backend tier (a "link"). Toxiproxy implements it (toxiproxy.ts); the drill code depends only on
 * this interface so another proxy could stand in.
 */
export type LinkName = 'cassandra' | 'redis';

export interface LinkAddress {
  host: string;
  port: number;
}

export interface NetworkToxics {
  /** Added to every round trip (applied to the requests, gateway → backend). */
  latencyMs?: number;
  jitterMs?: number;
  /** Caps the rate in both directions. */
  bandwidthKBps?: number;
}

export type PartitionMode =
  /** No byte passes; connections stay open and hang (the driver sees timeouts). */
  | 'blackhole'
  /** Every connection is reset (TCP RST) as soon as it carries data. */
  | 'reset'
  /** Existing connections are closed and new ones refused: what a stopped process looks like. */
  | 'refuse';

export interface FaultProxy {
  /** Starts proxying a link: gateways connect to the returned address instead of `upstream`. */
  addLink(name: LinkName, upstream: LinkAddress): Promise<LinkAddress>;
  /** Adds latency and/or bandwidth toxics to a link. */
  degrade(name: LinkName, toxics: NetworkToxics): Promise<void>;
  /** Cuts a link in one of the partition modes. */
  partition(name: LinkName, mode: PartitionMode): Promise<void>;
  /**
   * Removes every toxic and re-enables the link. `dropConnections` also closes the connections
   * that lived through the fault (needed after a blackhole, whose dropped bytes left their
   * protocol streams unusable), so clients reconnect cleanly.
   */
  heal(name: LinkName, options?: { dropConnections?: boolean }): Promise<void>;
  close(): Promise<void>;
}
