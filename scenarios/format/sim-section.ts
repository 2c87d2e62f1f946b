import { z } from 'zod';
import { distribution } from './distributions.js';

/*
 * Knobs only the simulator reads (infrastructure models). Owned by the simulator; the live driver
 * ignores this section. Every number here has a default; simulator/README.md says where each
 * default comes from (measured figures in docs/benchmarks.md, or the public figure it rests on).
 */

const positive = z.number().positive();

/** A backing service tier: link latency, servers, service time, caller timeout. */
function tier(
  defaults: {
    latencyMedianMs: number;
    latencySigma: number;
    serviceUs: number;
    concurrency: number;
    timeoutMs: number;
    dropQueuedAfterMs: number | null;
  },
  what: string,
) {
  return z
    .object({
      latency_ms: distribution
        .default({ kind: 'lognormal', median: defaults.latencyMedianMs, sigma: defaults.latencySigma })
        .describe('One-way network delay between a gateway and this tier.'),
      service_us: positive
        .default(defaults.serviceUs)
        .describe('Mean service time of one request at the tier (exponential), microseconds.'),
      concurrency: z
        .number()
        .int()
        .positive()
        .default(defaults.concurrency)
        .describe('Requests served at once (nodes × cores); more wait in a queue.'),
      timeout_ms: positive.default(defaults.timeoutMs).describe('The caller gives up after this and gets a retryable STORAGE_UNAVAILABLE.'),
      drop_queued_after_ms: positive
        .nullable()
        .default(defaults.dropQueuedAfterMs)
        .describe(
          'The tier throws away, unprocessed, a request that waited longer than this in its queue (Cassandra drops reads and writes older than their request timeout); its caller times out. null: every request is served however long it waited (Redis).',
        ),
    })
    .strict()
    .prefault({})
    .describe(what);
}

export const simSection = z
  .object({
    /** Simulate this many users in detail and scale tier loads by population ÷ cell (simulator/README.md, "Cells"). */
    cell_users: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Simulate a cell of this many users in detail (simulator/README.md, "Cells"); the rest of the population is background load (cell_background) and the capacity table scales to it. Absent or ≥ users: every user in detail.',
      ),
    cell_background: z
      .boolean()
      .default(true)
      .describe(
        "With cell_users: the cell runs on the whole topology, and the other cells' requests load the same servers (gateway CPU, Cassandra, Redis, S3, push) at (population ÷ cell − 1) times the cell's own rate, so utilisation and queueing are the whole deployment's. false: the cell runs alone on the topology.",
      ),
    cell_background_window_ms: positive
      .max(60_000)
      .default(1_000)
      .describe(
        "The background is a Poisson stream at (population ÷ cell − 1) times the cell's request rate measured over this window, with sizes drawn from the cell's recent requests. What all cells share (the rate curve, a spike, a crashed gateway's reconnect storm) reaches the background within it; shorter follows faster but adds noise a whole deployment does not have.",
      ),
    tick_ms: positive
      .max(100)
      .default(1)
      .describe('Virtual-time resolution: events of one tick run as one instant (1 ms keeps latencies in whole ms).'),
    checker: z
      .enum(['auto', 'full', 'streaming'])
      .default('auto')
      .describe(
        'full: record the whole history and run checker/ on it; streaming: check as events happen in bounded memory; auto: full up to full_check_users_max users.',
      ),
    full_check_users_max: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe('Largest population checked with the full history under checker: auto.'),
    client_link: z
      .object({
        latency_ms: distribution
          .default({ kind: 'lognormal', median: 20, sigma: 0.5, max: 2_000 })
          .describe('One-way delay between a device and its gateway (mobile networks: tens of ms).'),
        loss: z
          .number()
          .min(0)
          .max(0.5)
          .default(0.001)
          .describe('Share of frames lost once; TCP resends them after retransmit_ms (head-of-line blocking).'),
        retransmit_ms: positive.default(200).describe('Retransmission timeout of a lost frame.'),
      })
      .strict()
      .prefault({}),
    gateway: z
      .object({
        cores: z.number().int().positive().default(1).describe('CPU cores serving one gateway process (Node runs JavaScript on one).'),
        send_frame_us: positive.default(45).describe('CPU per inbound send frame (validation, sequencing, fan-out bookkeeping).'),
        frame_in_us: positive.default(20).describe('CPU per other inbound frame (ack, read, heartbeat, sync).'),
        frame_out_us: positive.default(10).describe('CPU per outbound frame (encode, write).'),
        connections_max: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('Connections per gateway the capacity model plans for (design card: 10K).'),
      })
      .strict()
      .prefault({}),
    cassandra: tier(
      { latencyMedianMs: 0.5, latencySigma: 0.4, serviceUs: 300, concurrency: 64, timeoutMs: 2_000, dropQueuedAfterMs: 2_000 },
      'The message store tier (messages, inboxes, receipts, conversations, directory).',
    ),
    redis: tier(
      { latencyMedianMs: 0.3, latencySigma: 0.3, serviceUs: 20, concurrency: 4, timeoutMs: 1_000, dropQueuedAfterMs: null },
      'Connection registry, presence and cross-gateway routing.',
    ),
    s3: tier(
      { latencyMedianMs: 5, latencySigma: 0.5, serviceUs: 5_000, concurrency: 256, timeoutMs: 30_000, dropQueuedAfterMs: null },
      'Object storage for media.',
    ),
    push: tier(
      { latencyMedianMs: 40, latencySigma: 0.5, serviceUs: 200, concurrency: 64, timeoutMs: 10_000, dropQueuedAfterMs: null },
      'The push service (FCM).',
    ),
    media_upload_bytes_per_s: positive.default(2_000_000).describe('Upload bandwidth of one device to object storage (bytes/s).'),
    clients: z
      .object({
        send_timeout_ms: positive.default(5_000).describe('A send without answer is re-sent (same clientMessageId) after this.'),
        retry_delay_ms: positive
          .default(1_000)
          .describe(
            "Wait before retrying a refused sync, and the longest jittered backoff before re-sending a refused send (never sooner than the server's hint).",
          ),
        reconnect_min_ms: positive.default(250).describe('Reconnect backoff floor (the SDK default); doubles per attempt with jitter.'),
        reconnect_max_ms: positive.default(15_000).describe('Reconnect backoff ceiling (the SDK default).'),
        presence_watch_contacts: z
          .number()
          .int()
          .nonnegative()
          .max(64)
          .default(0)
          .describe('Contacts whose presence each connected device watches.'),
      })
      .strict()
      .prefault({}),
    liveness: z
      .object({
        reconnect_all: z
          .boolean()
          .default(true)
          .describe('Bring every device online in the liveness phase (small runs); false: only those online at the end are owed.'),
      })
      .strict()
      .prefault({}),
    mls: z
      .object({
        encrypt_us: z
          .number()
          .nonnegative()
          .default(3000)
          .describe('Client CPU to encrypt one application message (µs); npm run bench:mls measured 2.5–3.2 ms CPU on a quiet machine.'),
        decrypt_us: z
          .number()
          .nonnegative()
          .default(1900)
          .describe('Client CPU to decrypt one application message (µs); npm run bench:mls measured 1.7–2.0 ms CPU on a quiet machine.'),
        overhead_bytes: z
          .number()
          .int()
          .nonnegative()
          .default(256)
          .describe('Ciphertext bytes added to a body (padding, header, tag, signature: 180–330 measured).'),
      })
      .strict()
      .prefault({})
      .describe('What an encrypted message costs (docs/e2ee.md, "Cost model"); applied to traffic.encrypted_share of the users.'),
  })
  .strict()
  .describe('Simulator-only knobs: infrastructure models, checking mode and cell size.');
export type SimSection = z.infer<typeof simSection>;
