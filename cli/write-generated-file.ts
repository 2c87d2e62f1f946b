import { writeFile } from 'node:fs/promises';
import { ExitCodes } from '../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from './command-spec.js';
import { runCommand } from './run-command.js';

export interface GeneratedFile {
  /** The npm script, e.g. `scenarios:schema`. */
  name: string;
  purpose: string;
  path: string;
  text: () => string;
}

/** The whole of a command that regenerates one file from code (a JSON schema, a rule file): no options but --help. */
export async function runWriteGeneratedFile(file: GeneratedFile): Promise<void> {
  await runCommand(
    defineCommand({ name: file.name, purpose: file.purpose, options: {}, exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN] }),
    async () => {
      await writeFile(file.path, file.text());
      console.log(`wrote ${file.path}`);
      return ExitCodes.OK;
    },
  );
}
