/**
 * Confidentiality on the production message store: a gateway whose stores are Cassandra (the
 * key directory and epochs included) serves an encrypted run; afterwards every row of every table
 * of its keyspace is read back and none holds a plaintext marker (in text, in blobs, or inside
 * base64). The gateway's log is scanned too. A control message sent unencrypted is found, which
 * shows the scan looks where the content is.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServices } from '../../../infra/local/services-api.js';
import { ChatClient } from '../../../sdk/client.js';
import { MlsSession } from '../../../sdk/mls/index.js';
import { confidentialityScenario, recordSession, type MlsRecorder } from '../../../sdk/mls/testing.js';
import { directConversationId } from '../../core/ids.js';
import { resolveLimits } from '../../core/limits.js';
import { JwtTokenAuthority } from '../jwt/jwt-token-authority.js';
import { sharedSecretTokenSettings } from '../jwt/jwt-settings.js';
import { GatewayNode } from '../../gateway/gateway-node.js';
import { noopMetrics } from '../../ports/metrics.js';
import { startServer, type RunningServer } from '../../server.js';
import { ChatCore } from '../../services/chat-core.js';
import { RecordingLogger } from '../../testing/in-process-client.js';
import { PlaintextScanner } from '../../testing/plaintext-scan.js';
import { EMBEDDED_DEV_SECRET, createMemoryStores } from '../../worlds/embedded-world.js';
import { EmbeddedBlobStore } from '../memory/embedded-blob-store.js';
import { LocalRouter } from '../memory/local-router.js';
import { RecordingPushSender } from '../memory/recording-push-sender.js';
import { cryptoRandom } from '../node/crypto-random.js';
import { systemClock } from '../node/system-clock.js';
import { createCassandraStores, type CassandraStores } from './cassandra-stores.js';

const KEYSPACE = 'chat_test_e2ee';

let cassandra: CassandraStores | undefined;
let server: RunningServer | undefined;
let core: ChatCore | undefined;
const clients: ChatClient[] = [];
const log = new RecordingLogger();

beforeAll(async () => {
  const env = await ensureServices(['cassandra']);
  cassandra = await createCassandraStores({
    contactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC,
    keyspace: KEYSPACE,
  });
  const memory = createMemoryStores(systemClock);
  const blobs = new EmbeddedBlobStore({ secret: EMBEDDED_DEV_SECRET, clock: systemClock });
  const router = new LocalRouter('node-e2ee');
  core = new ChatCore({
    clock: systemClock,
    random: cryptoRandom,
    limits: resolveLimits(),
    nodeId: 'node-e2ee',
    tokens: new JwtTokenAuthority(sharedSecretTokenSettings(EMBEDDED_DEV_SECRET), systemClock, resolveLimits()),
    messages: cassandra.messages,
    conversations: cassandra.conversations,
    inbox: cassandra.inbox,
    receipts: cassandra.receipts,
    directory: cassandra.directory,
    keyPackages: cassandra.keyPackages,
    groupEpochs: cassandra.groupEpochs,
    registry: memory.registry,
    presence: memory.presence,
    router,
    blobs,
    push: new RecordingPushSender(),
    metrics: noopMetrics,
    log,
  });
  const node = new GatewayNode(core, router);
  server = await startServer({
    node,
    host: '127.0.0.1',
    port: 0,
    extraHandlers: [(req, res) => blobs.handleHttp(req, res)],
    onBaseUrl: (url) => blobs.setBaseUrl(url),
  });
}, 180_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
  await cassandra?.close();
});

/** Every row of every table of the keyspace, scanned cell by cell. */
async function scanKeyspace(scanner: PlaintextScanner): Promise<number> {
  const client = cassandra!.client;
  const tables = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [KEYSPACE], { prepare: true });
  let rows = 0;
  for (const { table_name: table } of tables.rows) {
    const stream = client.stream(`SELECT * FROM ${KEYSPACE}.${String(table)}`, [], { prepare: false, fetchSize: 500 });
    for await (const row of stream as unknown as AsyncIterable<Record<string, unknown>>) {
      rows++;
      for (const [column, value] of Object.entries(row)) {
        if (value instanceof Uint8Array) scanner.scanBytes(value, `${String(table)}.${column}`);
        else if (typeof value === 'string') scanner.scanString(value, `${String(table)}.${column}`);
        else if (Array.isArray(value)) scanner.scanValue(value, `${String(table)}.${column}`);
      }
    }
  }
  return rows;
}

describe('confidentiality (Cassandra stores and the gateway log)', () => {
  it('no plaintext marker reaches any table of the keyspace', async () => {
    const nonce = randomBytes(6).toString('hex');
    // Users unique to this run: the keyspace is shared by every run of this test.
    const user = (name: string) => `${name}-${nonce}`;
    const connect = async (userId: string, deviceId: string): Promise<MlsRecorder> => {
      const client = new ChatClient({
        urls: [server!.wsUrl],
        token: (await core!.auth.issueToken({ userId: user(userId), deviceId })).token,
      });
      clients.push(client);
      const session = new MlsSession(client, { keyPackagesTarget: 3, joinStaggerMs: 20 });
      const recorder = recordSession(user(userId), deviceId, session);
      await session.start();
      return recorder;
    };
    const markers = await confidentialityScenario(connect, nonce, user);

    const control = `PLAINTEXT-${nonce}-control`;
    const plain = new ChatClient({
      urls: [server!.wsUrl],
      token: (await core!.auth.issueToken({ userId: user('erin'), deviceId: 'phone' })).token,
    });
    clients.push(plain);
    await plain.connect();
    await plain.send(directConversationId(user('alice'), user('erin')), control);

    const scanner = new PlaintextScanner([...markers, control]);
    const rows = await scanKeyspace(scanner);
    scanner.scanValue(log.entries, 'log');
    expect(rows).toBeGreaterThan(20);
    expect(scanner.hits.filter((h) => h.marker !== control)).toEqual([]);
    expect(scanner.hits.some((h) => h.marker === control && h.path.startsWith('messages.'))).toBe(true);
  }, 120_000);
});
