import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCodes, type RunSummary } from '../checker/run-summary.js';
import { couldNotRunJunitXml } from '../load/junit.js';
import { writeHtmlReport } from '../reports/index.js';

/**
 * A run that could not be carried out (exit 3) still writes every output it was asked for, saying
 * why: a CI step that publishes results then has something to publish, and a JUnit viewer shows a
 * failing case instead of nothing.
 */
export interface CouldNotRun {
  kind: RunSummary['kind'];
  /** The scenario's or drill's name, or the file's name when it could not be read. */
  scenario: string;
  /** The error's stable code (e.g. LOAD_TARGET_UNREACHABLE); COULD_NOT_RUN when it has none. */
  code: string;
  message: string;
}

export interface CouldNotRunPaths {
  json?: string | undefined;
  junit?: string | undefined;
  html?: string | undefined;
}

/**
 * The outputs a command line asks for (--json, --junit, --html) and its first argument (the run's
 * file), read leniently: a run refused for a bad argument elsewhere on the line still writes them.
 */
export function requestedOutputsOf(argv: readonly string[]): CouldNotRunPaths & { file: string | undefined } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { json: { type: 'string' }, junit: { type: 'string' }, html: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { json: text(values.json), junit: text(values.junit), html: text(values.html), file: positionals[0] };
}

/**
 * What a run command (sim, load, chaos) does when it fails, before it exits: write the outputs its
 * command line asked for, saying why, under the run's name as far as it is known (the file's until
 * `named` tells the scenario's or drill's).
 */
export function outputsOnFailure(
  kind: RunSummary['kind'],
  title: (name: string) => string,
  argv: readonly string[] = process.argv.slice(2),
) {
  let name = runNameOfFile(requestedOutputsOf(argv).file);
  return {
    named(runName: string): void {
      name = runName;
    },
    onFailure({ code, message }: { code: string; message: string }): Promise<void> {
      return writeCouldNotRunOutputs(requestedOutputsOf(argv), { kind, scenario: name, code, message }, title(name));
    },
  };
}

/** The name a run is reported under when its file could not be read: the file's name without its extension. */
export function runNameOfFile(path: string | undefined): string {
  return path ? basename(path, extname(path)) : 'unknown';
}

/** The --json document of a run that could not be carried out (docs/summaries.md). */
export function couldNotRunDocument(run: CouldNotRun): Record<string, unknown> {
  return {
    kind: run.kind,
    scenario: run.scenario,
    exit_code: ExitCodes.COULD_NOT_RUN,
    could_not_run: { code: run.code, message: run.message },
  };
}

export async function writeCouldNotRunOutputs(paths: CouldNotRunPaths, run: CouldNotRun, title: string): Promise<void> {
  const write = async (path: string, text: string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  };
  if (paths.json) await write(paths.json, `${JSON.stringify(couldNotRunDocument(run), null, 2)}\n`);
  if (paths.junit) await write(paths.junit, couldNotRunJunitXml(run));
  if (paths.html) await writeHtmlReport(paths.html, { title, exitCode: ExitCodes.COULD_NOT_RUN, error: `${run.code}: ${run.message}` });
}
