/**
 * Benchmark of the Cassandra message store alone, in the pattern the cluster benchmark's 1:1 load
 * makes: two processes (two stores, each with its own driver client) append to the same
 * conversations at nearly the same time — both ends of a chat answering at once, through
 * different gateways. Prints append latency and the Cassandra statements per append by kind.
 *
 *   npx tsx load/bench/append-race.ts [--conversations 20] [--rounds 15] [--gap-ms 10] [--pause-ms 200]
 *
 * Uses the local services' variables (npm run services -- env) and keyspace chat_bench.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import driver from 'cassandra-driver';
import { createCassandraStores } from '../../system/adapters/cassandra/cassandra-stores.js';
import type { ConversationEventDraft } from '../../system/core/events.js';
import { formatStages, StageTimer } from './stage-timer.js';

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '15' },
    'gap-ms': { type: 'string', default: '10' },
    'pause-ms': { type: 'string', default: '200' },
  },
});
const conversations = Number(values.conversations);
const rounds = Number(values.rounds);
const gapMs = Number(values['gap-ms']);
const pauseMs = Number(values['pause-ms']);
const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
if (!contactPoints) throw new Error('set the local services variables first: eval "$(npm run -s services -- env)"');

const timer = new StageTimer();
const clientPrototype = driver.Client.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
const execute = clientPrototype.execute!;
clientPrototype.execute = function (this: unknown, ...args: unknown[]) {
  const query = String(args[0]);
  const table = /(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(query)?.[1] ?? '?';
  const stage = `cql ${query.trim().split(/\s+/)[0]} ${table}${/\bIF\b/.test(query) ? ' IF' : ''}`;
  return timer.time(stage, () => execute.apply(this, args));
};

const config = { contactPoints: contactPoints.split(','), localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1', keyspace: 'chat_bench' };
const first = await createCassandraStores(config);
const second = await createCassandraStores(config, { migrate: false });
const run = Date.now().toString(36);

function draft(conversationId: string, senderUserId: string, n: number): ConversationEventDraft {
  return { kind: 'message', conversationId, senderUserId, senderDeviceId: 'd', clientMessageId: `${senderUserId}-${n}`, bodyBase64: 'aGVsbG8=', serverTimeMs: Date.now() };
}

try {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: conversations }, async (_, i) => {
        const [x, y] = [`race-${run}-${i}-x`, `race-${run}-${i}-y`];
        const conversationId = `dm:${x}:${y}`;
        // Alternate which side goes first, as replies do.
        const [early, late] = round % 2 === 0 ? ([[first, x], [second, y]] as const) : ([[second, y], [first, x]] as const);
        const append = (store: typeof first, user: string) => timer.time('append', () => store.messages.append(draft(conversationId, user, round)));
        await Promise.all([append(early[0], early[1]), sleep(gapMs).then(() => append(late[0], late[1]))]);
      }),
    );
    await sleep(pauseMs);
  }
} finally {
  await first.close();
  await second.close();
}
const figures = timer.figures();
const appends = figures.append?.count ?? 0;
process.stdout.write(`${appends} appends (${conversations} conversations × ${rounds} rounds × 2 sides, ${gapMs} ms apart)\n${formatStages(figures)}\n`);
for (const [stage, f] of Object.entries(figures)) {
  if (stage.startsWith('cql ')) process.stdout.write(`${stage.padEnd(40)} ${(f.count / Math.max(1, appends)).toFixed(2)} per append\n`);
}
