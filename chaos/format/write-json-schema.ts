import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runWriteGeneratedFile } from '../../cli/write-generated-file.js';
import { drillSchema } from './drill-schema.js';

/** The JSON schema editors use to autocomplete drill files; generated, never edited by hand. */
export const DRILL_JSON_SCHEMA_PATH = fileURLToPath(new URL('../drill.schema.json', import.meta.url));

export function drillJsonSchemaText(): string {
  const schema = z.toJSONSchema(drillSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'chatload chaos drill', $id: 'drill.schema.json' }, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runWriteGeneratedFile({
    name: 'chaos:schema',
    purpose: 'regenerates chaos/drill.schema.json, the JSON schema editors use to autocomplete drill files',
    path: DRILL_JSON_SCHEMA_PATH,
    text: drillJsonSchemaText,
  });
}
