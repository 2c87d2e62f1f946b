/**
 * Benchmark of the Cassandra message store alone, in the pattern the cluster benchmark's 1:1 load
 * makes: two processes (two stores, each with its own driver client) append to the same
 * conversations at nearly the same time — both ends of a chat answering at once, through
 * different gateways. Prints append latency and the Cassandra statements per append by kind.
 * Options: `npx tsx load/bench/append-race.ts --help`.
 *
 * Uses the local services' variables (npm run services -- env) and keyspace chat_bench.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import driver from 'cassandra-driver';
import { createCassandraStores } from '../../system/adapters/cassandra/cassandra-stores.js';
import type { ConversationEventDraft } from '../../system/core/events.js';
import { formatStages, StageTimer } from './stage-timer.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'append-race',
  runAs: 'npx tsx load/bench/append-race.ts',
  purpose:
    'the Cassandra message store alone, two stores appending to the same conversations at nearly the same time: latency and statements per append',
  options: {
    conversations: { type: 'number', integer: true, min: 1, default: 20, description: 'conversations appended to' },
    rounds: { type: 'number', integer: true, min: 1, default: 15, description: 'rounds of appends' },
    'gap-ms': { type: 'number', min: 0, default: 10, description: "between the two stores' appends" },
    'pause-ms': { type: 'number', min: 0, default: 200, description: 'between rounds' },
  },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
  notes: ["Uses the local services' variables (npm run services -- env) and keyspace chat_bench."],
});
const { values } = readCommandLine(command);
const conversations = values.conversations;
const rounds = values.rounds;
const gapMs = values['gap-ms'];
const pauseMs = values['pause-ms'];
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

const config = {
  contactPoints: contactPoints.split(','),
  localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
  keyspace: 'chat_bench',
};
const first = await createCassandraStores(config);
const second = await createCassandraStores(config, { migrate: false });
const run = Date.now().toString(36);

function draft(conversationId: string, senderUserId: string, n: number): ConversationEventDraft {
  return {
    kind: 'message',
    conversationId,
    senderUserId,
    senderDeviceId: 'd',
    clientMessageId: `${senderUserId}-${n}`,
    bodyBase64: 'aGVsbG8=',
    serverTimeMs: Date.now(),
  };
}

try {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: conversations }, async (_, i) => {
        const [x, y] = [`race-${run}-${i}-x`, `race-${run}-${i}-y`];
        const conversationId = `dm:${x}:${y}`;
        // Alternate which side goes first, as replies do.
        const [early, late] =
          round % 2 === 0
            ? ([
                [first, x],
                [second, y],
              ] as const)
            : ([
                [second, y],
                [first, x],
              ] as const);
        const append = (store: typeof first, user: string) =>
          timer.time('append', () => store.messages.append(draft(conversationId, user, round)));
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
process.stdout.write(
  `${appends} appends (${conversations} conversations × ${rounds} rounds × 2 sides, ${gapMs} ms apart)\n${formatStages(figures)}\n`,
);
for (const [stage, f] of Object.entries(figures)) {
  if (stage.startsWith('cql ')) process.stdout.write(`${stage.padEnd(40)} ${(f.count / Math.max(1, appends)).toFixed(2)} per append\n`);
}
