import { describeNumber } from './parse-command-line.js';
import type { CommandSpec, OptionSpec, OptionSpecs } from './command-spec.js';

/** Where the conventions every command follows are written down. */
export const CLI_CONVENTIONS_DOC = 'cli/README.md';

/**
 * The usage text of a command, written from its declaration (what `--help` prints and what follows
 * a bad argument): purpose, command line(s), arguments, options with their ranges and defaults,
 * exit codes.
 */
export function usageText(spec: CommandSpec<OptionSpecs>): string {
  const prefix = spec.runAs ?? `npm run ${spec.name} --`;
  const positionals = (spec.positionals ?? []).map((p) => {
    const name = `<${p.name}>${p.variadic ? '…' : ''}`;
    return p.optional ? `[${name}]` : name;
  });
  const forms = [[...positionals, '[options]'].join(' '), ...(spec.forms ?? [])];
  const lines = [`${spec.name}: ${spec.purpose}`, '', ...forms.map((form, i) => `${i === 0 ? 'usage:' : '      '} ${prefix} ${form}`)];

  const rows: Array<[string, string]> = [];
  for (const p of spec.positionals ?? []) rows.push([`<${p.name}>`, p.description]);
  if (rows.length > 0) lines.push('', 'arguments:', ...table(rows));

  const optionRows: Array<[string, string]> = Object.entries(spec.options).map(([name, option]) => [
    optionSyntax(name, option),
    optionDescription(option),
  ]);
  optionRows.push(['-h, --help', 'print this help and exit 0']);
  lines.push('', 'options:', ...table(optionRows));

  lines.push('', 'exit codes:', ...spec.exitCodes.map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`));
  if (spec.notes && spec.notes.length > 0) lines.push('', ...spec.notes);
  lines.push('', `Errors print as CODE: message; conventions: ${CLI_CONVENTIONS_DOC}`);
  return lines.join('\n');
}

function optionSyntax(name: string, option: OptionSpec): string {
  const flag = `${option.short ? `-${option.short}, ` : ''}--${name}`;
  if (option.type === 'boolean') return flag;
  const placeholder = option.placeholder ?? (option.type === 'number' ? 'N' : 'VALUE');
  return `${flag} ${placeholder}${option.type === 'string' && option.multiple ? ' …' : ''}`;
}

function optionDescription(option: OptionSpec): string {
  const facts: string[] = [];
  if (option.type === 'number' && (option.integer || option.min !== undefined || option.above !== undefined || option.max !== undefined))
    facts.push(describeNumber(option));
  if (option.type === 'string' && !option.multiple && option.choices) facts.push(option.choices.join(' | '));
  if (option.type === 'string' && option.multiple) facts.push('repeatable');
  if ((option.type === 'number' || (option.type === 'string' && !option.multiple)) && option.default !== undefined)
    facts.push(`default ${option.default}`);
  return facts.length > 0 ? `${option.description} (${facts.join('; ')})` : option.description;
}

/** Two columns; the first as wide as its widest cell (within reason), the second after it. */
function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${''.padEnd(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  );
}
