import type { FaultProxy } from '../proxy/fault-proxy.js';

/*
 * What a drill can do to the system under test. The local topology (processes on this machine)
 * and the compose topology (containers driven by the docker CLI) implement it; the fault injectors
 * depend only on this.
 */

export interface GatewayControl {
  /** kill -9 (or `docker kill`): no goodbye to clients, no cleanup. */
  kill(): Promise<void>;
  /** Starts the gateway again on the same address; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** SIGSTOP (or `docker pause`): the process holds its sockets but answers nothing. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Peak resident memory of the gateway's processes so far, in bytes; undefined where it cannot be read (containers). */
  peakRssBytes?(): number | undefined;
}

/** A backend process or container the drill may stop and start. */
export interface BackendControl {
  /** Stops it; for Redis the data is gone (it runs without persistence). */
  stop(): Promise<void>;
  /** Starts it; resolves when it is healthy again. */
  start(): Promise<void>;
}

export interface Topology {
  /** Where the load goes: one WebSocket URL per gateway. */
  targets: string[];
  /** The gateways' token secret, so the load driver signs tokens itself; undefined: ask /dev/token. */
  tokenSecret: string | undefined;
  gateways: GatewayControl[];
  /** Present when the drill may really stop Cassandra (a private instance or a compose container). */
  cassandra: BackendControl | undefined;
  /** Present when the drill may restart Redis (a private instance or a compose container). */
  redis: BackendControl | undefined;
  /** The fault proxy between gateways and backends, when the topology has one. */
  proxy: FaultProxy | undefined;
  /** One line per component saying how it runs (printed at the start of a drill and in the report). */
  describe(): string[];
  /** Stops everything this topology started (never the shared services). */
  close(): Promise<void>;
}
