/**
 * The one place for the system's limits. Every limit has a default and a unit in its name.
 * A composition root may override any of them (docs/protocol.md lists them for clients).
 */
export interface Limits {
  /** Largest WebSocket frame the gateway accepts, in bytes (checked before parsing). */
  frameBytesMax: number;
  /**
   * Most array entries and object members one frame may hold, counted before it is parsed: the
   * parse itself is the cost of a frame of a hundred thousand tiny entries. Must cover the largest
   * valid frame (a kp_claim naming every device of a full group).
   */
  frameValuesMax: number;
  /** Largest decoded message body (opaque ciphertext), in bytes. */
  messageBytesMax: number;
  /** Most members a group may have, the creator included. */
  groupMembersMax: number;
  /** Most devices linked to one user. */
  devicesPerUserMax: number;
  /** Longest group name, in characters. */
  groupNameCharsMax: number;
  /** How often clients are asked to send a heartbeat. */
  heartbeatIntervalMs: number;
  /** A connection with no inbound frame for this long is a zombie and is closed. */
  heartbeatTimeoutMs: number;
  /** Presence entries live this long unless refreshed by a heartbeat. */
  presenceTtlMs: number;
  /** Connection-registry entries live this long unless refreshed by a heartbeat. */
  registryTtlMs: number;
  /** Lifetime of an auth token issued by the development token endpoint. */
  tokenTtlMs: number;
  /** Longest lifetime a caller of the development token endpoint may ask for (a token that never expires is a leak that never heals). */
  tokenTtlMsMax: number;
  /** Per-connection rate limit: steady frames per second. */
  rateFramesPerSecond: number;
  /** Per-connection rate limit: burst size in frames. */
  rateBurstFrames: number;
  /**
   * Most frames of one connection the gateway handles in one turn of the event loop; the rest
   * wait for the next turn, after every other connection had its turn (in order, never reordered).
   */
  connectionFramesPerTurnMax: number;
  /** Longest time one connection's frames may hold the event loop in one turn, in ms (checked between frames). */
  connectionTurnMsMax: number;
  /**
   * Inbound bytes one connection may send per second, steady: past its budget the gateway stops
   * reading that socket until the budget has refilled (TCP backpressure; nothing is refused), so
   * one client streaming frames near frameBytesMax cannot take the process's time from the others.
   */
  connectionInboundBytesPerSecond: number;
  /** Inbound bytes one connection may send in a burst before connectionInboundBytesPerSecond applies. */
  connectionInboundBurstBytes: number;
  /** When the socket's send buffer passes this, the gateway stops reading from the client. */
  sendBufferPauseBytes: number;
  /** When the socket's send buffer passes this, the client is a slow consumer and is closed. */
  sendBufferBytesMax: number;
  /** Most events one sync or history page returns. */
  pageEventsMax: number;
  /** Most users one connection may watch for presence at a time. */
  presenceSubscriptionsMax: number;
  /** Largest media object, in bytes. */
  mediaBytesMax: number;
  /** Media content types clients may upload (opaque bytes; the type is a hint for the recipient). */
  mediaContentTypes: readonly string[];
  /** Lifetime of a signed media upload or download URL. */
  mediaUrlTtlMs: number;
  /** At most one push notification per device in this window; later ones in the window collapse. */
  pushCollapseWindowMs: number;
  /** How long a graceful shutdown waits for in-flight work before closing connections. */
  shutdownDrainMs: number;
  /** Hint sent to clients in `goaway`: wait this long before reconnecting. */
  reconnectAfterMs: number;
  /** Most unclaimed MLS KeyPackages the key directory holds for one device (the last-resort one not counted). */
  keyPackagesPerDeviceMax: number;
  /** Most KeyPackages one `kp_upload` may carry. */
  keyPackagesPerUploadMax: number;
  /** Largest encoded KeyPackage, in bytes. */
  keyPackageBytesMax: number;
  /** Most users one `kp_claim` may name (a group's worth). */
  keyPackageClaimUsersMax: number;
  /** KeyPackages one device may claim per minute (also the burst); stops a claim storm from draining the directory. */
  keyPackageClaimsPerMinute: number;
  /**
   * Largest body of an MLS handshake send (`mls.kind` commit, proposal or welcome), in bytes: a
   * commit adding dozens of devices, with its Welcome and ratchet tree, outgrows a chat message.
   * Kept below frameBytesMax once base64-encoded.
   */
  mlsHandshakeBytesMax: number;
  /** Most accepted sends one gateway holds in its write-ahead log during a store outage; beyond it sends fail (retryable). */
  walEntriesMax: number;
  /** First wait before replaying the write-ahead log again after the store refused; doubles up to walReplayRetryMaxMs. */
  walReplayRetryMs: number;
  /** Longest wait between replay attempts while the store stays down. */
  walReplayRetryMaxMs: number;
  /**
   * How long a gateway keeps trying to reach a conversation's owner (ownership moving, a takeover
   * waiting out a lease) before it logs a send in its write-ahead log or fails a group change.
   */
  ownerWaitMs: number;
  /** Pause between two attempts to reach a conversation's owner. */
  ownerRetryMs: number;
  /** Longest wait for another gateway's answer to a forwarded request. */
  ownerCallTimeoutMs: number;
  /**
   * How long a gateway reuses a connected device's route before asking the registry again. A stale
   * route costs one redelivery (the frame names its device; see DeviceRoutes), not a lost frame.
   */
  routeCacheTtlMs: number;
  /** Most device routes one gateway remembers; the least recently filled goes first. */
  routeCacheEntriesMax: number;
  /** Longest wait for the token key set (CHAT_TOKEN_JWKS_URL) to answer; beyond it auth fails with AUTH_UNAVAILABLE (retryable). */
  jwksFetchTimeoutMs: number;
  /** A fetched token key set is used this long before it is fetched again. */
  jwksCacheMaxAgeMs: number;
  /** A token naming a key the cached set lacks refetches the set, but at most once per this interval (unknown key ids cannot force a fetch storm). */
  jwksRefetchCooldownMs: number;
  /**
   * Most sends one gateway holds unanswered (numbering, storing, forwarding to an owner); beyond
   * it new sends are refused with OVERLOADED (retryable): memory stays bounded under any load.
   */
  sendsInFlightMax: number;
  /**
   * Overload is a standing queue: when every send a gateway answered during one admission window
   * waited longer than this, the next window refuses new sends with OVERLOADED. The quickest send
   * of a window is the measure, so a few sends stuck behind one slow owner do not trip it.
   */
  sendQueueDelayMsMax: number;
  /** Length of one admission window (see sendQueueDelayMsMax). */
  sendAdmissionWindowMs: number;
  /**
   * Fewest sends answered in one window for its verdict to count: a real standing queue answers
   * many; one or two slow answers (a process resumed after a pause, a clock that jumped) are no
   * evidence of overload.
   */
  sendAdmissionAnswersMin: number;
  /** Mean retry hint of an OVERLOADED answer; each answer draws its hint between half and one and a half times this, so refused clients do not return together. */
  overloadRetryAfterMs: number;
}

export const defaultLimits: Readonly<Limits> = Object.freeze({
  frameBytesMax: 256 * 1024,
  frameValuesMax: 8192,
  messageBytesMax: 64 * 1024,
  groupMembersMax: 256,
  devicesPerUserMax: 5,
  groupNameCharsMax: 100,
  heartbeatIntervalMs: 30_000,
  heartbeatTimeoutMs: 75_000,
  presenceTtlMs: 60_000,
  registryTtlMs: 90_000,
  tokenTtlMs: 24 * 60 * 60 * 1000,
  tokenTtlMsMax: 30 * 24 * 60 * 60 * 1000,
  rateFramesPerSecond: 50,
  rateBurstFrames: 200,
  // A valid frame costs well under a millisecond: 16 of them or 2 ms keeps a well-behaved peer's
  // wait behind a flooding connection to a couple of milliseconds per turn.
  connectionFramesPerTurnMax: 16,
  connectionTurnMsMax: 2,
  // A chat client sends a few KiB/s; the largest legitimate bursts (a KeyPackage upload, an MLS
  // commit for a full group) are a few hundred KiB, so 4 frames of frameBytesMax fit the burst.
  connectionInboundBytesPerSecond: 1024 * 1024,
  connectionInboundBurstBytes: 1024 * 1024,
  sendBufferPauseBytes: 1 * 1024 * 1024,
  sendBufferBytesMax: 4 * 1024 * 1024,
  pageEventsMax: 500,
  presenceSubscriptionsMax: 1000,
  mediaBytesMax: 16 * 1024 * 1024,
  mediaContentTypes: Object.freeze([
    'image/jpeg',
    'image/png',
    'image/webp',
    'video/mp4',
    'audio/ogg',
    'application/pdf',
    'application/octet-stream',
  ]),
  mediaUrlTtlMs: 15 * 60 * 1000,
  pushCollapseWindowMs: 10_000,
  shutdownDrainMs: 2_000,
  reconnectAfterMs: 500,
  keyPackagesPerDeviceMax: 100,
  keyPackagesPerUploadMax: 50,
  keyPackageBytesMax: 4096,
  keyPackageClaimUsersMax: 256,
  // A 256-member group of 5-device users is 1280 claims at once: the burst must cover one.
  keyPackageClaimsPerMinute: 3000,
  mlsHandshakeBytesMax: 192 * 1024,
  // ~1 KiB per entry on disk: 100k entries is ~100 MiB, minutes of a busy gateway's traffic.
  walEntriesMax: 100_000,
  walReplayRetryMs: 250,
  walReplayRetryMaxMs: 4_000,
  ownerWaitMs: 3_000,
  ownerRetryMs: 100,
  ownerCallTimeoutMs: 5_000,
  routeCacheTtlMs: 5_000,
  routeCacheEntriesMax: 200_000,
  jwksFetchTimeoutMs: 5_000,
  jwksCacheMaxAgeMs: 10 * 60 * 1000,
  jwksRefetchCooldownMs: 30_000,
  // A gateway answers a send in milliseconds when it keeps up; 2 s of queueing is far past the
  // latency objective, and above what a slow backend alone causes (the 500 ms latency drill).
  sendsInFlightMax: 4096,
  sendQueueDelayMsMax: 2_000,
  sendAdmissionWindowMs: 1_000,
  sendAdmissionAnswersMin: 8,
  overloadRetryAfterMs: 1_000,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...defaultLimits, ...overrides };
}

/**
 * Parses `name=value` overrides (command-line `--limit` flags, the CHAT_LIMITS variable) into a
 * partial Limits; unknown names and non-numeric values are configuration errors, said clearly.
 */
export function parseLimitOverrides(pairs: readonly string[]): Partial<Limits> {
  const overrides: Record<string, unknown> = {};
  for (const pair of pairs) {
    const [name, raw] = pair.split('=', 2);
    if (!name || raw === undefined || !Object.hasOwn(defaultLimits, name)) {
      throw new Error(`unknown limit "${pair}"; known: ${Object.keys(defaultLimits).join(', ')}`);
    }
    if (Array.isArray(defaultLimits[name as keyof Limits])) {
      overrides[name] = raw.split(',').filter(Boolean);
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`limit ${name} needs a non-negative number, got "${raw}"`);
    overrides[name] = value;
  }
  return overrides as Partial<Limits>;
}
