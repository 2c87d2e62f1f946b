/**
 * `npm run bench:mls`: what end-to-end encryption costs a device, measured on the SDK's MLS
 * library calls (no network): per-message encrypt and decrypt time, ciphertext overhead, and the
 * cost of a commit that adds one member, for groups of 2, 16, 64 and 256 members. These are the
 * figures the simulator charges (docs/e2ee.md, "Cost model"); docs/benchmarks.md records a run.
 * Options: `npm run bench:mls -- --help`.
 *
 * Bounded: about a minute on a 2-core machine. Times are medians of the repetitions (µs), so a
 * noisy neighbour moves them less than a mean would.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  emptyPskIndex,
  encodeMlsMessage,
  joinGroup,
  processMessage,
  type ClientState,
  type MLSMessage,
} from 'ts-mls';
import { encodeEnvelope } from '../../sdk/mls/envelope.js';
import { encodePayload } from '../../sdk/mls/payload.js';
import { encodeKeyPackage, mlsSuite, newKeyPackage, utf8, type KeyPackagePair } from '../../sdk/mls/suite.js';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN } from '../../cli/command-spec.js';
import { parseNumberList } from '../../cli/parse-command-line.js';
import { readCommandLine } from '../../cli/run-command.js';

const command = defineCommand({
  name: 'bench:mls',
  purpose: 'what end-to-end encryption costs a device: MLS encrypt, decrypt, ciphertext overhead and an add-member commit, per group size',
  options: {
    sizes: { type: 'string', default: '2,16,64,256', placeholder: 'a,b,…', description: 'group sizes (members)' },
    messages: { type: 'number', integer: true, min: 1, default: 300, description: 'messages timed per group size' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the figures as JSON' },
  },
  exitCodes: [{ code: ExitCodes.OK, meaning: 'measured' }, EXIT_COULD_NOT_RUN],
});
const { values } = readCommandLine(command);
const sizes = parseNumberList(command, 'sizes', values.sizes, { integer: true, min: 2 });
const messages = values.messages;
const PAYLOAD_TEXT_BYTES = [16, 100, 1000];

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Wall time and process CPU time (user + system, all threads) of one call. On a shared machine the
 * CPU time is the steadier figure: it does not count the time other processes held the cores.
 */
async function timeUs<T>(fn: () => Promise<T>): Promise<{ us: number; cpuUs: number; value: T }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { us: Number(process.hrtime.bigint() - start) / 1000, cpuUs: used.user + used.system, value };
}

const device = (i: number) => ({ userId: `user${i}`, deviceId: 'phone' });

interface GroupFigures {
  members: number;
  /** Creating the group: one commit adding every other member (the 1:1 / group founding cost). */
  foundingCommitMs: number;
  foundingCommitBytes: number;
  /** Joining by that Welcome, at one member. */
  joinMs: number;
  encryptUs: number;
  decryptUs: number;
  /** CPU time of the same calls (see timeUs). */
  encryptCpuUs: number;
  decryptCpuUs: number;
  /** Body bytes on the wire minus plaintext bytes, per text size. */
  overheadBytes: Record<string, number>;
  /** A commit adding one more member: creating it, applying it at another member, and its size with the Welcome. */
  addCommitMs: number;
  addProcessMs: number;
  addCommitBytes: number;
  addWelcomeBytes: number;
}

async function measureGroup(members: number): Promise<GroupFigures> {
  const impl = await mlsSuite();
  const packages: KeyPackagePair[] = [];
  for (let i = 0; i < members + 1; i++) packages.push(await newKeyPackage(device(i)));
  const [creatorKp, receiverKp, ...others] = packages;
  const newcomer = others.pop()!;
  const groupId = utf8('grp:bench');
  const empty = await createGroup(groupId, creatorKp!.publicPackage, creatorKp!.privatePackage, [], impl);
  const adds = [receiverKp!, ...others].map((p) => ({ proposalType: 'add' as const, add: { keyPackage: p.publicPackage } }));
  const founding = await timeUs(() =>
    createCommit({ state: empty, cipherSuite: impl }, { extraProposals: adds, ratchetTreeExtension: true }),
  );
  let sender: ClientState = founding.value.newState;
  const foundingBytes = envelopeBytes(
    founding.value.commit,
    founding.value.welcome && { welcome: founding.value.welcome, wireformat: 'mls_welcome', version: 'mls10' },
  );
  const joined = await timeUs(() =>
    joinGroup(founding.value.welcome!, receiverKp!.publicPackage, receiverKp!.privatePackage, emptyPskIndex, impl),
  );
  let receiver: ClientState = joined.value;

  // Messages: encrypt at the creator, decrypt in order at the member.
  const encryptSamples: number[] = [];
  const decryptSamples: number[] = [];
  const encryptCpu: number[] = [];
  const decryptCpu: number[] = [];
  const payload = encodePayload({ text: 'x'.repeat(100) });
  const wire: Uint8Array[] = [];
  for (let i = 0; i < messages; i++) {
    const { us, cpuUs, value } = await timeUs(() => createApplicationMessage(sender, payload, impl, utf8(`bench-${i}`)));
    encryptSamples.push(us);
    encryptCpu.push(cpuUs);
    sender = value.newState;
    wire.push(encodeMlsMessage({ privateMessage: value.privateMessage, wireformat: 'mls_private_message', version: 'mls10' }));
  }
  for (const bytes of wire) {
    const { us, cpuUs, value } = await timeUs(async () => {
      const decoded = decodeMlsMessage(bytes, 0)![0];
      if (decoded.wireformat !== 'mls_private_message') throw new Error('expected a private message');
      return processMessage(decoded, receiver, emptyPskIndex, acceptAll, impl);
    });
    decryptSamples.push(us);
    decryptCpu.push(cpuUs);
    receiver = value.newState;
  }
  const overheadBytes: Record<string, number> = {};
  for (const textBytes of PAYLOAD_TEXT_BYTES) {
    const encrypted = await createApplicationMessage(
      sender,
      encodePayload({ text: 'x'.repeat(textBytes) }),
      impl,
      utf8('bench-overhead-0001'),
    );
    sender = encrypted.newState;
    const body = encodeEnvelope({
      kind: 'application',
      message: encodeMlsMessage({ privateMessage: encrypted.privateMessage, wireformat: 'mls_private_message', version: 'mls10' }),
    });
    overheadBytes[`${textBytes}B`] = body.byteLength - textBytes;
  }

  // One more member: the commit's cost at its author and at a member applying it.
  const add = await timeUs(() =>
    createCommit(
      { state: sender, cipherSuite: impl },
      { extraProposals: [{ proposalType: 'add', add: { keyPackage: newcomer.publicPackage } }], ratchetTreeExtension: true },
    ),
  );
  const applied = await timeUs(() =>
    processMessage(add.value.commit as MLSMessage & { wireformat: 'mls_private_message' }, receiver, emptyPskIndex, acceptAll, impl),
  );
  if (applied.value.kind !== 'newState') throw new Error('the add commit did not apply');
  return {
    members,
    foundingCommitMs: round(founding.us / 1000),
    foundingCommitBytes: foundingBytes,
    joinMs: round(joined.us / 1000),
    encryptUs: round(median(encryptSamples)),
    decryptUs: round(median(decryptSamples)),
    encryptCpuUs: round(median(encryptCpu)),
    decryptCpuUs: round(median(decryptCpu)),
    overheadBytes,
    addCommitMs: round(add.us / 1000),
    addProcessMs: round(applied.us / 1000),
    addCommitBytes: encodeMlsMessage(add.value.commit).byteLength,
    addWelcomeBytes: add.value.welcome
      ? encodeMlsMessage({ welcome: add.value.welcome, wireformat: 'mls_welcome', version: 'mls10' }).byteLength
      : 0,
  };
}

function envelopeBytes(commit: MLSMessage, welcome: MLSMessage | undefined): number {
  return encodeEnvelope({ kind: 'commit', commit: encodeMlsMessage(commit), welcome: welcome && encodeMlsMessage(welcome) }).byteLength;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const started = performance.now();
const kpTimes: number[] = [];
const kpCpu: number[] = [];
let kpBytes = 0;
for (let i = 0; i < 50; i++) {
  const { us, cpuUs, value } = await timeUs(() => newKeyPackage(device(i)));
  kpTimes.push(us);
  kpCpu.push(cpuUs);
  kpBytes = Buffer.from(encodeKeyPackage(value.publicPackage), 'base64').byteLength;
}
const results: GroupFigures[] = [];
for (const members of sizes) {
  process.stderr.write(`· group of ${members}\n`);
  results.push(await measureGroup(members));
}
const report = {
  cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
  node: process.version,
  messagesPerGroup: messages,
  keyPackage: { generateUs: round(median(kpTimes)), generateCpuUs: round(median(kpCpu)), bytes: kpBytes },
  loadAverage: (await import('node:os')).loadavg().map((l) => round(l)),
  groups: results,
  wall_s: round((performance.now() - started) / 1000),
};

const header = [
  'members',
  'encrypt µs (cpu)',
  'decrypt µs (cpu)',
  'overhead B (16/100/1000 B text)',
  'found ms',
  'found B',
  'join ms',
  'add: commit ms',
  'apply ms',
  'commit B',
  'welcome B',
];
const rows = results.map((r) => [
  r.members,
  `${r.encryptUs} (${r.encryptCpuUs})`,
  `${r.decryptUs} (${r.decryptCpuUs})`,
  PAYLOAD_TEXT_BYTES.map((b) => r.overheadBytes[`${b}B`]).join('/'),
  r.foundingCommitMs,
  r.foundingCommitBytes,
  r.joinMs,
  r.addCommitMs,
  r.addProcessMs,
  r.addCommitBytes,
  r.addWelcomeBytes,
]);
process.stdout.write(`MLS costs (${report.cipherSuite}, ${report.node}; medians of ${messages} messages)\n`);
process.stdout.write(
  `KeyPackage: generate ${report.keyPackage.generateUs} µs (cpu ${report.keyPackage.generateCpuUs}), ${report.keyPackage.bytes} bytes; load average ${report.loadAverage.join(' ')}\n`,
);
process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
process.stdout.write(`wall ${report.wall_s} s\n`);
if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}
