import { describe, expect, it } from 'vitest';
import { requestedOutputsOf } from './could-not-run.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from './command-spec.js';
import { parseCommandLine, parseNumberList } from './parse-command-line.js';
import { executeCommand, type CommandBody } from './run-command.js';
import { ToolError } from './tool-error.js';
import { usageText } from './usage-text.js';

const spec = defineCommand({
  name: 'demo:tool',
  purpose: 'does a thing to a file',
  positionals: [{ name: 'file.yaml', description: 'the input' }],
  options: {
    seed: { type: 'number', integer: true, min: 0, description: 'first seed' },
    rate: { type: 'number', min: 0.5, max: 10, default: 2, description: 'per second' },
    'duration-s': { type: 'number', above: 0, description: 'how long' },
    target: { type: 'string', choices: ['local', 'compose'], default: 'local', description: 'where' },
    json: { type: 'string', placeholder: 'FILE', description: 'write the summary here' },
    assume: { type: 'string', multiple: true, placeholder: 'name=value', description: 'override an assumption' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress' },
  },
  exitCodes: [EXIT_OK, { code: 1, meaning: 'an invariant was violated' }, EXIT_COULD_NOT_RUN],
  badArgumentsCode: 'DEMO_BAD_ARGUMENTS',
});

class OtherCodedError extends Error {
  readonly code = 'OTHER_CODE';
}

async function run(argv: string[], body: CommandBody<typeof spec.options> = () => 0) {
  const out: string[] = [];
  const err: string[] = [];
  const failures: string[] = [];
  const code = await executeCommand(
    spec,
    body,
    { argv, out: (t) => out.push(t), err: (t) => err.push(t) },
    { knownErrors: [OtherCodedError], onFailure: (f) => void failures.push(f.code) },
  );
  return { code, out: out.join(''), err: err.join(''), failures };
}

describe('parseCommandLine', () => {
  it('types and defaults every option', () => {
    const line = parseCommandLine(spec, ['a.yaml', '--seed', '7', '--assume', 'x=1', '-q', '--assume', 'y=2', '--target', 'compose']);
    expect(line).toEqual({
      help: false,
      positionals: ['a.yaml'],
      values: { seed: 7, rate: 2, 'duration-s': undefined, target: 'compose', json: undefined, assume: ['x=1', 'y=2'], quiet: true },
    });
  });

  it('rejects numbers out of range or not whole, naming the option and the range', () => {
    expect(() => parseCommandLine(spec, ['a', '--seed=-1'])).toThrow('--seed needs a non-negative integer, got "-1"');
    expect(() => parseCommandLine(spec, ['a', '--seed', '1.5'])).toThrow('--seed needs a non-negative integer, got "1.5"');
    expect(() => parseCommandLine(spec, ['a', '--rate', '11'])).toThrow('--rate needs a number from 0.5 to 10, got "11"');
    expect(() => parseCommandLine(spec, ['a', '--rate', ''])).toThrow('--rate needs a number from 0.5 to 10, got ""');
    expect(parseCommandLine(spec, ['a', '--rate', '10'])).toMatchObject({ values: { rate: 10 } });
    expect(() => parseCommandLine(spec, ['a', '--duration-s', '0'])).toThrow('--duration-s needs a positive number, got "0"');
    expect(parseCommandLine(spec, ['a', '--duration-s', '0.5'])).toMatchObject({ values: { 'duration-s': 0.5 } });
  });

  it('rejects an unknown option, a value outside the choices and a wrong count of positionals with the bad-arguments code', () => {
    const codeOf = (argv: string[]) => {
      try {
        parseCommandLine(spec, argv);
      } catch (error) {
        return [(error as ToolError).code, (error as ToolError).message];
      }
      return undefined;
    };
    expect(codeOf(['a', '--bogus'])).toEqual(['DEMO_BAD_ARGUMENTS', "Unknown option '--bogus'"]);
    expect(codeOf(['a', '--target', 'cloud'])).toEqual(['DEMO_BAD_ARGUMENTS', '--target is local or compose, not "cloud"']);
    expect(codeOf([])).toEqual(['DEMO_BAD_ARGUMENTS', 'missing <file.yaml>']);
    expect(codeOf(['a', 'b'])).toEqual(['DEMO_BAD_ARGUMENTS', 'too many arguments: expected <file.yaml>, got "a" "b"']);
    expect(codeOf(['a', '--json'])).toEqual(['DEMO_BAD_ARGUMENTS', expect.stringContaining('--json')]);
  });

  it('reads comma-separated lists of numbers, each checked', () => {
    expect(parseNumberList(spec, 'rates', '25, 50,100', { integer: true, min: 1 })).toEqual([25, 50, 100]);
    expect(() => parseNumberList(spec, 'rates', '25,0', { integer: true, min: 1 })).toThrow('--rates needs a positive integer, got "0"');
    expect(() => parseNumberList(spec, 'rates', '25,,50', { integer: true, min: 1 })).toThrow(
      '--rates takes a comma-separated list of positive integers, got "25,,50"',
    );
  });

  it('answers --help and -h before checking anything else', () => {
    expect(parseCommandLine(spec, ['--help'])).toEqual({ help: true });
    expect(parseCommandLine(spec, ['-h', '--seed', 'x'])).toEqual({ help: true });
  });
});

describe('usageText', () => {
  it('lists the command line, every option with its range and default, and the exit codes', () => {
    const text = usageText(spec);
    expect(text).toContain('demo:tool: does a thing to a file');
    expect(text).toContain('usage: npm run demo:tool -- <file.yaml> [options]');
    expect(text).toMatch(/--seed N +first seed \(a non-negative integer\)/);
    expect(text).toMatch(/--rate N +per second \(a number from 0\.5 to 10; default 2\)/);
    expect(text).toMatch(/--target VALUE +where \(local \| compose; default local\)/);
    expect(text).toMatch(/--assume name=value … +override an assumption \(repeatable\)/);
    expect(text).toMatch(/-q, --quiet +no progress/);
    expect(text).toMatch(/-h, --help +print this help and exit 0/);
    expect(text).toMatch(/exit codes:\n +0 {2}done\n +1 {2}an invariant was violated\n +3 {2}could not run/);
  });
});

describe('executeCommand', () => {
  it('prints the usage with the exit codes on --help and exits 0 without running the body', async () => {
    let ran = false;
    const result = await run(['--help'], () => {
      ran = true;
      return 1;
    });
    expect(result.code).toBe(0);
    expect(ran).toBe(false);
    expect(result.out).toContain('exit codes:');
    expect(result.out).toContain('an invariant was violated');
  });

  it('reports a bad argument in one line, then the usage, and exits 3', async () => {
    const result = await run(['a', '--seed', 'x']);
    expect(result.code).toBe(3);
    const [first, ...rest] = result.err.split('\n');
    expect(first).toBe('DEMO_BAD_ARGUMENTS: --seed needs a non-negative integer, got "x"');
    expect(rest.join('\n')).toContain('usage: npm run demo:tool');
    expect(result.failures).toEqual(['DEMO_BAD_ARGUMENTS']);
  });

  it("passes the body's exit code through", async () => {
    expect((await run(['a'], ({ values }) => (values.quiet ? 9 : 2))).code).toBe(2);
    expect((await run(['a'], () => undefined)).code).toBeUndefined();
  });

  it('prints a tool error as code: message (and its hint) and exits with its code', async () => {
    const result = await run(['a'], () => {
      throw new ToolError('DEMO_TARGET_UNREACHABLE', 'cannot connect to ws://x', { hint: 'start the server first' });
    });
    expect(result.code).toBe(3);
    expect(result.err).toBe('DEMO_TARGET_UNREACHABLE: cannot connect to ws://x\nhint: start the server first\n');
    const slo = await run(['a'], () => {
      throw new ToolError('DEMO_SLOW', 'too slow', { exitCode: 2 });
    });
    expect(slo.code).toBe(2);
  });

  it('prints errors of the declared other types the same way, and anything else with its stack, exiting 3', async () => {
    const other = await run(['a'], () => {
      throw new OtherCodedError('bad scenario');
    });
    expect([other.code, other.err]).toEqual([3, 'OTHER_CODE: bad scenario\n']);
    const bug = await run(['a'], async () => {
      throw new TypeError('x is undefined');
    });
    expect(bug.code).toBe(3);
    expect(bug.err).toMatch(/^demo:tool failed: TypeError: x is undefined\n {4}at /);
    expect(bug.failures).toEqual(['COULD_NOT_RUN']);
  });
});

describe('requestedOutputsOf', () => {
  it('finds the outputs and the file on a line with options it does not know or cannot read', () => {
    expect(requestedOutputsOf(['s.yaml', '--seed', 'x', '--json', 'o.json', '--html=o.html', '--quiet'])).toEqual({
      json: 'o.json',
      junit: undefined,
      html: 'o.html',
      file: 's.yaml',
    });
  });
});
