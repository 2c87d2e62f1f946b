import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ToolError } from './tool-error.js';
import { BAD_ARGUMENTS_CODE, type CommandSpec, type NumberOption, type OptionSpecs, type ParsedCommandLine } from './command-spec.js';

/** What the command line asked for: the help text, or a run with these values. */
export type CommandLine<Options extends OptionSpecs> = { help: true } | ({ help: false } & ParsedCommandLine<Options>);

/**
 * Parses `argv` strictly (node:util parseArgs: an unknown option or a missing value is an error),
 * then checks numbers, choices and the count of positionals. A bad argument throws a ToolError
 * with the command's bad-arguments code and a one-line message naming the option.
 */
export function parseCommandLine<Options extends OptionSpecs>(spec: CommandSpec<Options>, argv: readonly string[]): CommandLine<Options> {
  const bad = (message: string) => new ToolError(spec.badArgumentsCode ?? BAD_ARGUMENTS_CODE, message);
  const config: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(spec.options)) {
    config[name] = {
      type: option.type === 'boolean' ? 'boolean' : 'string',
      ...(option.short ? { short: option.short } : {}),
      ...(option.type === 'string' && option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw bad(oneLine((error as Error).message));
  }
  if (parsed.values.help === true) return { help: true };

  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    const flag = `--${name}`;
    if (option.type === 'boolean') values[name] = raw === true;
    else if (option.type === 'string' && option.multiple) values[name] = (raw as string[] | undefined) ?? [];
    else if (option.type === 'number') values[name] = raw === undefined ? option.default : parseNumber(raw as string, flag, option, bad);
    else {
      const text = (raw as string | undefined) ?? option.default;
      if (text !== undefined && option.choices && !option.choices.includes(text))
        throw bad(`${flag} is ${alternatives(option.choices)}, not "${text}"`);
      values[name] = text;
    }
  }
  checkPositionals(spec, parsed.positionals, bad);
  return { help: false, values: values as ParsedCommandLine<Options>['values'], positionals: parsed.positionals };
}

/** A comma-separated list of numbers (e.g. `--rates 25,50,100`), each checked as `option` says; a bad one is the command's bad argument. */
export function parseNumberList(
  spec: CommandSpec<OptionSpecs>,
  name: string,
  text: string,
  option: Pick<NumberOption, 'integer' | 'min' | 'above' | 'max'>,
): number[] {
  const bad = (message: string) => new ToolError(spec.badArgumentsCode ?? BAD_ARGUMENTS_CODE, message);
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === ''))
    throw bad(`--${name} takes a comma-separated list of ${describeNumber(option).replace(/^an? /, '')}s, got "${text}"`);
  return items.map((item) => parseNumber(item, `--${name}`, option, bad));
}

function parseNumber(
  text: string,
  flag: string,
  option: Pick<NumberOption, 'integer' | 'min' | 'above' | 'max'>,
  bad: (message: string) => Error,
): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const ok =
    Number.isFinite(value) &&
    (!option.integer || Number.isSafeInteger(value)) &&
    (option.min === undefined || value >= option.min) &&
    (option.above === undefined || value > option.above) &&
    (option.max === undefined || value <= option.max);
  if (!ok) throw bad(`${flag} needs ${describeNumber(option)}, got "${text}"`);
  return value;
}

/** "a positive integer", "a non-negative integer", "a number from 0 to 1", … (also used by the usage text). */
export function describeNumber(option: Pick<NumberOption, 'integer' | 'min' | 'above' | 'max'>): string {
  const kind = option.integer ? 'integer' : 'number';
  const { min, max } = option;
  if (option.above === 0 && max === undefined) return `a positive ${kind}`;
  if (option.above !== undefined)
    return `${option.integer ? 'an integer' : 'a number'} > ${option.above}${max !== undefined ? ` and ≤ ${max}` : ''}`;
  if (min !== undefined && max !== undefined) return `${option.integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  if (min === 1 && option.integer) return 'a positive integer';
  if (min === 0) return `a non-negative ${kind}`;
  if (min !== undefined) return `${option.integer ? 'an integer' : 'a number'} ≥ ${min}`;
  if (max !== undefined) return `${option.integer ? 'an integer' : 'a number'} ≤ ${max}`;
  return option.integer ? 'an integer' : 'a number';
}

function checkPositionals(spec: CommandSpec<OptionSpecs>, given: readonly string[], bad: (message: string) => Error): void {
  const declared = spec.positionals ?? [];
  const required = declared.filter((p) => !p.optional).length;
  const variadic = declared.at(-1)?.variadic === true;
  if (given.length >= required && (variadic || given.length <= declared.length)) return;
  const names = declared.map((p) => `<${p.name}>${p.variadic ? '…' : ''}`).join(' ');
  if (declared.length === 0) throw bad(`takes no arguments, got "${given.join(' ')}"`);
  throw bad(
    given.length < required ? `missing ${names}` : `too many arguments: expected ${names}, got ${given.map((g) => `"${g}"`).join(' ')}`,
  );
}

function alternatives(choices: readonly string[]): string {
  return choices.length <= 1 ? (choices[0] ?? '') : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
}

/** parseArgs adds advice on positionals that start with '-' to an unknown option; a bad argument is reported in one short line. */
function oneLine(text: string): string {
  return text
    .split('\n')[0]!
    .replace(/\. To specify a positional argument .*$/, '')
    .trim();
}
