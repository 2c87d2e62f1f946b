import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clinicArgs, clinicEnv, doctorAnalysisOf, loadCommand, shellQuote, unusableTools, type ProfileRun } from './clinic-tools.js';

const RUN: ProfileRun = {
  tool: 'flame',
  outDir: '/tmp/profile out',
  scenarioPath: "scenarios/it's.yaml",
  durationS: 5,
  world: 'production',
  loadJsonPath: '/tmp/profile out/load.json',
  nodePath: '/usr/bin/node',
  clinicBinPath: '/x/clinic/bin.js',
};

describe('clinic command lines', () => {
  it('quotes words for the shell so that paths with spaces and quotes survive, and leaves $PORT to the shell', () => {
    const command = loadCommand(RUN);
    expect(command.endsWith('--target ws://127.0.0.1:$PORT/ws')).toBe(true);
    // The shell splits it back into the original words, with PORT expanded.
    const words = execFileSync('sh', ['-c', `set -- ${command}; printf '%s\\n' "$@"`], {
      env: { PORT: '4242', PATH: process.env.PATH },
      encoding: 'utf8',
    })
      .trimEnd()
      .split('\n');
    expect(words).toEqual([
      '/usr/bin/node',
      '--import',
      'tsx',
      'load/main.ts',
      "scenarios/it's.yaml",
      '--duration-s',
      '5',
      '--quiet',
      '--json',
      '/tmp/profile out/load.json',
      '--target',
      'ws://127.0.0.1:4242/ws',
    ]);
    expect(shellQuote('plain/path.yaml')).toBe('plain/path.yaml');
  });

  it('runs the chosen tool around a gateway of the chosen world with /dev/token, the load on its port', () => {
    const args = clinicArgs(RUN);
    expect(args.slice(0, 5)).toEqual(['/x/clinic/bin.js', 'flame', '--open=false', '--dest', '/tmp/profile out']);
    expect(args[5]).toBe('--on-port');
    expect(args.slice(args.indexOf('--'))).toEqual([
      '--',
      '/usr/bin/node',
      '--import',
      'tsx',
      'system/main.ts',
      '--world',
      'production',
      '--port',
      '0',
      '--dev-tokens',
      '--quiet',
    ]);
  });

  it('turns off the usage-statistics prompt that makes clinic exit silently without a terminal', () => {
    expect(clinicEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', NO_INSIGHT: '1' });
  });

  it('names the tool that does not work on Node 20 and what to use instead', () => {
    expect(unusableTools.bubbleprof?.instead).toMatch(/doctor/);
    expect(unusableTools.doctor).toBeUndefined();
    expect(unusableTools.flame).toBeUndefined();
  });
});

describe('doctorAnalysisOf', () => {
  it("reads clinic doctor's verdict from the JSON its report embeds", () => {
    const html = `<script>{"data":[{"timestamp":1}],
        "analysis": {"interval":[1796649174177,1796649199283],"issues":{"delay":"none","cpu":"performance","memory":{"external":"none","rss":"none"},"handles":"performance","loopUtilization":"none"},"issueCategory":"io"}
      }</script>`;
    expect(doctorAnalysisOf(html)).toEqual({
      issueCategory: 'io',
      issues: {
        delay: 'none',
        cpu: 'performance',
        memory: { external: 'none', rss: 'none' },
        handles: 'performance',
        loopUtilization: 'none',
      },
    });
    expect(doctorAnalysisOf('<html>no analysis here</html>')).toBeUndefined();
  });
});
