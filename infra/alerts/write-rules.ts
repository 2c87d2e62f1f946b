/** `npm run alerts:write`: regenerates slo-rules.yml from the SLO definitions. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ExitCodes } from '../../checker/run-summary.js';
import { defineCommand, EXIT_COULD_NOT_RUN, EXIT_OK } from '../../cli/command-spec.js';
import { runCommand } from '../../cli/run-command.js';
import { SLO_RULES_PATH } from './rule-file-paths.js';
import { sloRuleFileText } from './slo-rule-file.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runCommand(
    defineCommand({
      name: 'alerts:write',
      purpose: 'regenerates infra/alerts/slo-rules.yml from the SLO definitions (slo-objectives.ts)',
      options: {},
      exitCodes: [EXIT_OK, EXIT_COULD_NOT_RUN],
    }),
    async () => {
      await writeFile(SLO_RULES_PATH, sloRuleFileText());
      console.log(`wrote ${SLO_RULES_PATH}`);
      return ExitCodes.OK;
    },
  );
}
