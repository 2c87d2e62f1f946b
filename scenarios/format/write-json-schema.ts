import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runWriteGeneratedFile } from '../../cli/write-generated-file.js';
import { scenarioSchema } from './scenario-schema.js';

/** The JSON schema editors use to autocomplete scenario files; generated, never edited by hand. */
export const SCENARIO_JSON_SCHEMA_PATH = fileURLToPath(new URL('../scenario.schema.json', import.meta.url));

export function scenarioJsonSchemaText(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'chatload scenario', $id: 'scenario.schema.json' }, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runWriteGeneratedFile({
    name: 'scenarios:schema',
    purpose: 'regenerates scenarios/scenario.schema.json, the JSON schema editors use to autocomplete scenario files',
    path: SCENARIO_JSON_SCHEMA_PATH,
    text: scenarioJsonSchemaText,
  });
}
