/** `npm run alerts:write`: regenerates slo-rules.yml from the SLO definitions. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SLO_RULES_PATH } from './rule-file-paths.js';
import { sloRuleFileText } from './slo-rule-file.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(SLO_RULES_PATH, sloRuleFileText());
  console.log(`wrote ${SLO_RULES_PATH}`);
}
