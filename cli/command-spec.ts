import { ExitCodes, INTERRUPTED_EXIT_CODES } from '../checker/run-summary.js';

/*
 * What a command declares about itself (cli/README.md): its name, purpose, arguments, options and
 * exit codes. The scaffold parses the command line from it (parse-command-line.ts), writes the
 * usage text from it (usage-text.ts) and runs the command (run-command.ts), so every tool reads
 * its arguments, answers --help and reports a bad argument the same way.
 */

interface OptionBase {
  /** One line: what the option does (the usage text adds the range and the default). */
  description: string;
  /** A one-letter alias, e.g. 'q' for -q. */
  short?: string;
  /** The value's name in the usage text, e.g. FILE (default N for numbers, VALUE for strings). */
  placeholder?: string;
}

export interface StringOption extends OptionBase {
  type: 'string';
  default?: string;
  /** The only values allowed. */
  choices?: readonly string[];
  multiple?: false;
}

/** A string option that may be given several times; its value is the list, in order (empty when absent). */
export interface RepeatableOption extends OptionBase {
  type: 'string';
  multiple: true;
}

export interface NumberOption extends OptionBase {
  type: 'number';
  default?: number;
  /** Whole numbers only. */
  integer?: boolean;
  min?: number;
  /** Strictly above this (e.g. 0 for a positive duration). */
  above?: number;
  max?: number;
}

/** A flag: true when given, false otherwise. */
export interface BooleanOption extends OptionBase {
  type: 'boolean';
}

export type OptionSpec = StringOption | RepeatableOption | NumberOption | BooleanOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface PositionalSpec {
  /** Its name in the usage text, e.g. `scenario.yaml`. */
  name: string;
  description: string;
  optional?: boolean;
  /** Takes every remaining argument (the last positional only). */
  variadic?: boolean;
}

export interface ExitCodeDoc {
  code: number;
  meaning: string;
}

export interface CommandSpec<Options extends OptionSpecs = OptionSpecs> {
  /** The npm script, e.g. `sim:swarm` (usage reads `npm run sim:swarm -- …`). */
  name: string;
  /** One line: what the command does. */
  purpose: string;
  /** How it is started when it has no npm script (default `npm run <name> --`). */
  runAs?: string;
  positionals?: readonly PositionalSpec[];
  /** Further forms of the command line, after `npm run <name> --` (sub-commands, alternatives). */
  forms?: readonly string[];
  options: Options;
  exitCodes: readonly ExitCodeDoc[];
  /** The stable code of a bad argument (default CLI_BAD_ARGUMENTS); a tool error with this code also prints the usage. */
  badArgumentsCode?: string;
  /** Lines printed after the options (environment variables, where to read more). */
  notes?: readonly string[];
}

type ValueOf<S extends OptionSpec> = S extends BooleanOption
  ? boolean
  : S extends RepeatableOption
    ? string[]
    : S extends NumberOption
      ? S extends { default: number }
        ? number
        : number | undefined
      : S extends { choices: readonly (infer Choice extends string)[] }
        ? S extends { default: string }
          ? Choice
          : Choice | undefined
        : S extends { default: string }
          ? string
          : string | undefined;

/** The parsed values of a command's options, typed from its declaration. */
export type OptionValues<Options extends OptionSpecs> = { -readonly [Name in keyof Options]: ValueOf<Options[Name]> };

export interface ParsedCommandLine<Options extends OptionSpecs> {
  values: OptionValues<Options>;
  positionals: string[];
}

/** Declares a command; `const` keeps each option's literal type so its parsed value is typed. */
export function defineCommand<const Options extends OptionSpecs>(spec: CommandSpec<Options>): CommandSpec<Options> {
  return spec;
}

export const BAD_ARGUMENTS_CODE = 'CLI_BAD_ARGUMENTS';

/** What each exit code of a judged run means for one command; the defaults are the run summaries' words. */
export interface JudgedRunMeanings {
  ok?: string;
  invariant?: string;
  slo?: string;
  couldNotRun: string;
  /** The line for 130/143, for a command that settles and reports when interrupted. */
  interrupted?: string;
}

/** The exit codes of a command whose run the checker and the SLO gate judge (sim, load, chaos and their merges). */
export function judgedRunExitCodes(meanings: JudgedRunMeanings): ExitCodeDoc[] {
  return [
    { code: ExitCodes.OK, meaning: meanings.ok ?? 'every invariant and SLO holds' },
    { code: ExitCodes.INVARIANT_VIOLATED, meaning: meanings.invariant ?? 'an invariant was violated' },
    { code: ExitCodes.SLO_MISSED, meaning: meanings.slo ?? 'an SLO was missed' },
    { code: ExitCodes.COULD_NOT_RUN, meaning: meanings.couldNotRun },
    ...(meanings.interrupted
      ? [{ code: INTERRUPTED_EXIT_CODES.SIGINT, meaning: `interrupted by SIGINT (143: SIGTERM): ${meanings.interrupted}` }]
      : []),
  ];
}

/** Exit-code lines most commands share (checker/run-summary.ts ExitCodes). */
export const EXIT_OK: ExitCodeDoc = { code: 0, meaning: 'done' };
export const EXIT_COULD_NOT_RUN: ExitCodeDoc = {
  code: 3,
  meaning: 'could not run (bad arguments or input, a service unreachable); the message says why',
};
