import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { drillSchema } from './drill-schema.js';

/** The JSON schema editors use to autocomplete drill files; generated, never edited by hand. */
export const DRILL_JSON_SCHEMA_PATH = fileURLToPath(new URL('../drill.schema.json', import.meta.url));

export function drillJsonSchemaText(): string {
  const schema = z.toJSONSchema(drillSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'chatload chaos drill', $id: 'drill.schema.json' }, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(DRILL_JSON_SCHEMA_PATH, drillJsonSchemaText());
  console.log(`wrote ${DRILL_JSON_SCHEMA_PATH}`);
}
