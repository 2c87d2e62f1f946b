/**
 * Where the CPU time of one or more V8 CPU profiles went (the `.cpuprofile` files that
 * `npm run bench:cluster -- --stage-timing DIR --cpu-prof DIR` writes, one per gateway), summed:
 * busy and idle time, the functions with the most self time, self time by package or project file,
 * and which code's calls the socket writes (writev, writeBuffer, writeUtf8String) were made for.
 * Options: `npx tsx load/bench/cpu-profile-summary.ts --help`.
 */
import { readFileSync } from 'node:fs';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { readCommandLine } from '../../cli/run-command.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String']);
const IDLE = '(idle)';

const command = defineCommand({
  name: 'cpu-profile-summary',
  runAs: 'npx tsx load/bench/cpu-profile-summary.ts',
  purpose:
    'where the CPU time of V8 CPU profiles went, summed: busy and idle, top functions, time by package or file, who the socket writes were for',
  positionals: [
    {
      name: 'FILE.cpuprofile',
      description: 'profiles (npm run bench:cluster -- --stage-timing DIR --cpu-prof DIR writes one per gateway)',
      variadic: true,
    },
  ],
  options: { top: { type: 'number', integer: true, min: 1, default: 25, description: 'rows per table' } },
  exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
});
const { values, positionals } = readCommandLine(command);
const top = values.top;

/** A path inside the project, or `pkg/<package>` for a dependency, or the V8/Node name. */
function placeOf(url: string, functionName: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return `pkg/${dependency[1]}`;
  const project = /\/(system|load|simulator|sdk|checker|reports|chaos|infra)\/.*$/.exec(url);
  if (project) return project[0].slice(1);
  return url || functionName;
}

const selfMs = new Map<string, number>();
const byPlace = new Map<string, number>();
const writesFor = new Map<string, number>();
const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
let totalMs = 0;
let idleMs = 0;

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const msOfNode = new Map<number, number>();
  profile.samples.forEach((id, i) => msOfNode.set(id, (msOfNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  for (const [id, ms] of msOfNode) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    totalMs += ms;
    if (functionName === IDLE) {
      idleMs += ms;
      continue;
    }
    const place = placeOf(url, functionName);
    add(selfMs, `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`, ms);
    add(byPlace, place, ms);
    if (SOCKET_WRITES.has(functionName)) {
      // The nearest caller that is project or dependency code says what the write was for.
      let caller = parentOf.get(id);
      while (caller !== undefined && !/node_modules|\/(system|load|simulator|sdk)\//.test(nodes.get(caller)!.callFrame.url))
        caller = parentOf.get(caller);
      const frame = caller === undefined ? undefined : nodes.get(caller)!.callFrame;
      add(
        writesFor,
        `${functionName} ← ${frame ? `${frame.functionName || '(anonymous)'} ${placeOf(frame.url, frame.functionName)}` : '?'}`,
        ms,
      );
    }
  }
}

const busyMs = totalMs - idleMs;
const share = (ms: number) => `${((100 * ms) / busyMs).toFixed(1).padStart(5)} %`;
const table = (title: string, map: Map<string, number>, limit: number) => {
  console.log(`\n${title}`);
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit))
    console.log(`${share(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`);
};
console.log(
  `${positionals.length} profile(s): ${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy, ${idleMs.toFixed(0)} ms idle (shares below are of busy time)`,
);
table('self time by function', selfMs, top);
table('self time by package or project file', byPlace, top);
table('socket writes, by the code they were made for', writesFor, 10);
