import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

/** Stable codes for scenario problems; commands map all of them to exit code 3 (could not run). */
export const ScenarioErrorCodes = {
  UNREADABLE: 'SCENARIO_UNREADABLE',
  NOT_YAML: 'SCENARIO_NOT_YAML',
  INVALID: 'SCENARIO_INVALID',
} as const;
export type ScenarioErrorCode = (typeof ScenarioErrorCodes)[keyof typeof ScenarioErrorCodes];

export class ScenarioError extends Error {
  constructor(
    readonly code: ScenarioErrorCode,
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'ScenarioError';
  }
}

/** One line per problem, each with the field path a user can find in the file. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`).join('\n');
}

/** Validates an already-parsed document; `source` names it in errors. */
export function parseScenario(document: unknown, source: string): Scenario {
  const result = scenarioSchema.safeParse(document);
  if (!result.success) {
    throw new ScenarioError(ScenarioErrorCodes.INVALID, source, `not a valid scenario:\n${describeIssues(result.error)}`);
  }
  return result.data;
}

export function parseScenarioText(text: string, source: string): Scenario {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    throw new ScenarioError(ScenarioErrorCodes.NOT_YAML, source, `not YAML: ${detail}`);
  }
  return parseScenario(document, source);
}

export async function readScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(ScenarioErrorCodes.UNREADABLE, path, `cannot read: ${(error as Error).message}`);
  }
  return parseScenarioText(text, path);
}
