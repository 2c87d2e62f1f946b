import { ExitCodes } from '../checker/run-summary.js';

/*
 * The one error type of the command-line tools (cli/README.md). Each tool keeps its own stable
 * codes (a `…ErrorCodes` object of string constants such as LOAD_TARGET_UNREACHABLE) and throws
 * this class with one of them; the scaffold (cli/command.ts) prints every one as `code: message`
 * and exits with the error's exit code. Library and protocol errors (sdk/, system/core) are not
 * tool errors and keep their own types.
 */

/** An exit code a tool error can map to: a run that went wrong is 3 (could not run) unless it says otherwise. */
export type ToolExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

export interface ToolErrorOptions {
  /** What to try next, printed on a line of its own after the message. */
  hint?: string | undefined;
  /** The error underneath: not printed, kept for debuggers and tests. */
  cause?: unknown;
  /** Default 3 (could not run). */
  exitCode?: ToolExitCode;
}

export class ToolError<Code extends string = string> extends Error {
  override readonly name = 'ToolError';
  readonly hint: string | undefined;
  readonly exitCode: ToolExitCode;

  constructor(
    readonly code: Code,
    message: string,
    options: ToolErrorOptions = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCodes.COULD_NOT_RUN;
  }
}

/** Whether `error` is a tool error with this code (for catch blocks that handle one case). */
export function isToolError<Code extends string>(error: unknown, code?: Code): error is ToolError<Code> {
  return error instanceof ToolError && (code === undefined || error.code === code);
}

/** The lines a tool prints for an error of this type: `code: message`, then the hint if there is one. */
export function formatToolError(error: ToolError): string {
  return `${error.code}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`;
}
