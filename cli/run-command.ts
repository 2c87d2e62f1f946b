import { ExitCodes } from '../checker/run-summary.js';
import { BAD_ARGUMENTS_CODE, type CommandSpec, type OptionSpecs, type ParsedCommandLine } from './command-spec.js';
import { parseCommandLine } from './parse-command-line.js';
import { formatToolError, ToolError } from './tool-error.js';
import { usageText } from './usage-text.js';

/**
 * What a command's body returns: its exit code, or nothing for a command that keeps running (a
 * server) and ends when its own handles close or a signal stops it.
 */
export type CommandBody<Options extends OptionSpecs> = (args: ParsedCommandLine<Options>) => Promise<number | void> | number | void;

/** A failure on its way out, handed to `onFailure` (e.g. to still write the outputs a run was asked for). */
export interface CommandFailure {
  code: string;
  message: string;
  error: unknown;
}

export interface CommandIo {
  argv: readonly string[];
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface CommandHooks {
  /**
   * Errors of other types that carry a stable string `code` and a message meant for the user
   * (e.g. ScenarioError): reported as `code: message` with exit 3, like tool errors.
   */
  knownErrors?: ReadonlyArray<abstract new (...args: never[]) => Error & { code: string }>;
  /** Runs before a failed command exits (known or not); its own failure is reported and ignored. */
  onFailure?: (failure: CommandFailure) => Promise<void> | void;
}

/**
 * Parses the command line, answers --help, runs the body and turns every way it can end into an
 * exit code: the body's own; 0 after --help; 3 for a bad argument (one line naming it, then the
 * usage); a ToolError's exit code, printed `code: message`; 3 for anything else, with its stack.
 * Returns undefined when the body keeps the process running.
 */
export async function executeCommand<Options extends OptionSpecs>(
  spec: CommandSpec<Options>,
  body: CommandBody<Options>,
  io: CommandIo,
  hooks: CommandHooks = {},
): Promise<number | undefined> {
  try {
    const line = parseCommandLine(spec, io.argv);
    if (line.help) {
      io.out(`${usageText(spec)}\n`);
      return ExitCodes.OK;
    }
    const code = await body({ values: line.values, positionals: line.positionals });
    return code ?? undefined;
  } catch (error) {
    return await reportFailure(spec, error, io, hooks);
  }
}

/** Prints a failure the way every command does (see executeCommand), runs onFailure, and gives the exit code. */
async function reportFailure(
  spec: CommandSpec<OptionSpecs>,
  error: unknown,
  io: Pick<CommandIo, 'err'>,
  hooks: CommandHooks,
): Promise<number> {
  const known = error instanceof ToolError || (hooks.knownErrors ?? []).some((type) => error instanceof type);
  const code = known ? (error as { code: string }).code : 'COULD_NOT_RUN';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ToolError) io.err(`${formatToolError(error)}\n`);
  else if (known) io.err(`${code}: ${message}\n`);
  else io.err(`${spec.name} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  if (known && code === (spec.badArgumentsCode ?? BAD_ARGUMENTS_CODE)) io.err(`\n${usageText(spec)}\n`);
  if (hooks.onFailure) {
    try {
      await hooks.onFailure({ code, message, error });
    } catch (hookError) {
      io.err(`could not write the outputs either: ${(hookError as Error).message}\n`);
    }
  }
  return error instanceof ToolError ? error.exitCode : ExitCodes.COULD_NOT_RUN;
}

const processIo = {
  argv: process.argv.slice(2),
  out: (t: string) => void process.stdout.write(t),
  err: (t: string) => void process.stderr.write(t),
};

/**
 * The entry point of a command: runs it on this process's arguments and exits with its code
 * (process.exit, so a pool or socket the body left open does not keep a finished command alive).
 */
export async function runCommand<Options extends OptionSpecs>(
  spec: CommandSpec<Options>,
  body: CommandBody<Options>,
  hooks: CommandHooks = {},
): Promise<void> {
  const code = await executeCommand(spec, body, processIo, hooks);
  if (code !== undefined) process.exit(code);
}

/**
 * For a script whose body runs at the top of its module (the benchmarks): parses this process's
 * command line, answering --help (exit 0) and refusing a bad argument (exit 3) before anything
 * starts, and reports any error the script throws later the way runCommand would (exit 3, or a
 * ToolError's code).
 */
export function readCommandLine<Options extends OptionSpecs>(
  spec: CommandSpec<Options>,
  hooks: CommandHooks = {},
): ParsedCommandLine<Options> {
  let line;
  try {
    line = parseCommandLine(spec, processIo.argv);
  } catch (error) {
    // Only bad arguments fail here: refused before anything of the script runs.
    processIo.err(`${formatToolError(error as ToolError)}\n\n${usageText(spec)}\n`);
    process.exit(ExitCodes.COULD_NOT_RUN);
  }
  if (line.help) {
    processIo.out(`${usageText(spec)}\n`);
    process.exit(ExitCodes.OK);
  }
  let failing = false;
  process.on('uncaughtException', (error) => {
    if (failing) return;
    failing = true;
    void reportFailure(spec, error, processIo, hooks).then((code) => process.exit(code));
  });
  return { values: line.values, positionals: line.positionals };
}
