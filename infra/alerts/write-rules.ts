/** `npm run alerts:write`: regenerates slo-rules.yml from the SLO definitions. */
import { fileURLToPath } from 'node:url';
import { runWriteGeneratedFile } from '../../cli/write-generated-file.js';
import { SLO_RULES_PATH } from './rule-file-paths.js';
import { sloRuleFileText } from './slo-rule-file.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runWriteGeneratedFile({
    name: 'alerts:write',
    purpose: 'regenerates infra/alerts/slo-rules.yml from the SLO definitions (slo-objectives.ts)',
    path: SLO_RULES_PATH,
    text: sloRuleFileText,
  });
}
