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
  const badArgumentsCode = spec.badArgumentsCode ?? BAD_ARGUMENTS_CODE;
  try {
    const line = parseCommandLine(spec, io.argv);
    if (line.help) {
      io.out(`${usageText(spec)}\n`);
      return ExitCodes.OK;
    }
    const code = await body({ values: line.values, positionals: line.positionals });
    return code ?? undefined;
  } catch (error) {
    const known = error instanceof ToolError || (hooks.knownErrors ?? []).some((type) => error instanceof type);
    const code = known ? (error as { code: string }).code : 'COULD_NOT_RUN';
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ToolError) io.err(`${formatToolError(error)}\n`);
    else if (known) io.err(`${code}: ${message}\n`);
    else io.err(`${spec.name} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    if (known && code === badArgumentsCode) io.err(`\n${usageText(spec)}\n`);
    if (hooks.onFailure) {
      try {
        await hooks.onFailure({ code, message, error });
      } catch (hookError) {
        io.err(`could not write the outputs either: ${(hookError as Error).message}\n`);
      }
    }
    return error instanceof ToolError ? error.exitCode : ExitCodes.COULD_NOT_RUN;
  }
}

/**
 * The entry point of a command: runs it on this process's arguments and exits with its code
 * (process.exit, so a pool or socket the body left open does not keep a finished command alive).
 */
export async function runCommand<Options extends OptionSpecs>(spec: CommandSpec<Options>, body: CommandBody<Options>, hooks: CommandHooks = {}): Promise<void> {
  const code = await executeCommand(spec, body, { argv: process.argv.slice(2), out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) }, hooks);
  if (code !== undefined) process.exit(code);
}
