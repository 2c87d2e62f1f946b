import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ChatError, errorCodeList, type ErrorCode } from '../core/errors.js';
import { defaultLimits } from '../core/limits.js';
import { clientFrameSchemas, serverFrameSchemas } from './frames.js';
import { CloseCodes, PROTOCOL_VERSION } from './version.js';

/*
 * Keeps docs/protocol.md and docs/errors.md in step with the code: every frame type has its own
 * `### <type>` section whose JSON examples validate against that frame's schema, every limit is
 * listed with its default, and errors.md lists exactly the error codes of system/core/errors.ts.
 */

const protocolMd = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const errorsMd = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

const clientTypes = Object.keys(clientFrameSchemas);
const serverTypes = Object.keys(serverFrameSchemas);

interface Heading {
  level: number;
  text: string;
  line: number;
}

interface JsonBlock {
  text: string;
  line: number;
  /** The nearest level 1-3 heading above the block. */
  section: Heading | undefined;
  /** The nearest level-2 heading above the block. */
  chapter: Heading | undefined;
}

/** Headings and ```json blocks of a markdown document, skipping headings inside code fences. */
function scanMarkdown(markdown: string): { headings: Heading[]; jsonBlocks: JsonBlock[] } {
  const headings: Heading[] = [];
  const jsonBlocks: JsonBlock[] = [];
  const lines = markdown.split(/\r?\n/);
  let section: Heading | undefined;
  let chapter: Heading | undefined;
  let fence: { lang: string; start: number; body: string[] } | undefined;
  lines.forEach((line, index) => {
    const fenceMatch = /^```\s*([A-Za-z0-9_-]*)\s*$/.exec(line);
    if (fence) {
      if (/^```\s*$/.test(line)) {
        if (fence.lang === 'json') jsonBlocks.push({ text: fence.body.join('\n'), line: fence.start + 1, section, chapter });
        fence = undefined;
      } else {
        fence.body.push(line);
      }
      return;
    }
    if (fenceMatch) {
      fence = { lang: fenceMatch[1]!.toLowerCase(), start: index, body: [] };
      return;
    }
    const headingMatch = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!headingMatch) return;
    const heading = { level: headingMatch[1]!.length, text: headingMatch[2]!, line: index + 1 };
    headings.push(heading);
    if (heading.level <= 3) section = heading;
    if (heading.level <= 2) chapter = heading.level === 2 ? heading : undefined;
  });
  if (fence) throw new Error(`unterminated code fence opened on line ${fence.start + 1}`);
  return { headings, jsonBlocks };
}

type Direction = 'client' | 'server';

/** Which frame direction a level-2 chapter documents, from its title. */
function directionOf(chapter: Heading | undefined): Direction | undefined {
  if (!chapter) return undefined;
  if (/client\s*(→|->)\s*server/i.test(chapter.text)) return 'client';
  if (/server\s*(→|->)\s*client/i.test(chapter.text)) return 'server';
  return undefined;
}

function schemaFor(direction: Direction, type: string): z.ZodType | undefined {
  const schemas: Record<string, z.ZodType> = direction === 'client' ? clientFrameSchemas : serverFrameSchemas;
  return Object.hasOwn(schemas, type) ? schemas[type] : undefined;
}

const protocol = scanMarkdown(protocolMd);
const frameHeadings = protocol.headings.filter((h) => h.level === 3);

describe('docs/protocol.md', () => {
  it('documents protocol version 1 (the current PROTOCOL_VERSION)', () => {
    expect(protocolMd).toMatch(new RegExp(`^# .*version ${PROTOCOL_VERSION}\\b`, 'm'));
  });

  it('has a `### <type>` heading for every client and server frame type', () => {
    const documented = frameHeadings.map((h) => h.text);
    const missing = [...clientTypes, ...serverTypes].filter((type) => !documented.includes(type));
    expect(missing, 'frame types without a ### heading').toEqual([]);
  });

  it('uses `### ` headings only for frame types, once each, in the right chapter', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const heading of frameHeadings) {
      const chapter = [...protocol.headings].reverse().find((h) => h.level === 2 && h.line < heading.line);
      const direction = directionOf(chapter);
      if (!direction) {
        problems.push(`line ${heading.line}: "### ${heading.text}" is outside the client→server / server→client frame chapters`);
        continue;
      }
      if (!schemaFor(direction, heading.text)) {
        problems.push(`line ${heading.line}: "### ${heading.text}" is not a ${direction} frame type`);
      }
      if (seen.has(`${direction}:${heading.text}`)) problems.push(`line ${heading.line}: "### ${heading.text}" appears twice`);
      seen.add(`${direction}:${heading.text}`);
    }
    expect(problems).toEqual([]);
  });

  it('gives every frame type at least one JSON example', () => {
    const withExamples = new Set(protocol.jsonBlocks.filter((b) => b.section?.level === 3).map((b) => b.section!.text));
    const missing = [...clientTypes, ...serverTypes].filter((type) => !withExamples.has(type));
    expect(missing, 'frame sections without a ```json example').toEqual([]);
  });

  it('has JSON examples that are valid JSON and validate against their frame schema', () => {
    const problems: string[] = [];
    for (const block of protocol.jsonBlocks) {
      let value: unknown;
      try {
        value = JSON.parse(block.text);
      } catch (error) {
        problems.push(`line ${block.line}: not valid JSON: ${(error as Error).message}`);
        continue;
      }
      if (block.section?.level !== 3) continue;
      const direction = directionOf(block.chapter);
      const schema = direction && schemaFor(direction, block.section.text);
      if (!schema) {
        problems.push(`line ${block.line}: example under unknown frame heading "### ${block.section.text}"`);
        continue;
      }
      const result = schema.safeParse(value);
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ');
        problems.push(`line ${block.line}: "${block.section.text}" example is invalid: ${issues}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists every limit with its default value in the limits chapter', () => {
    const lines = protocolMd.split('\n');
    const start = lines.findIndex((line) => /^## (\d+\.\s*)?Limits\s*$/.test(line));
    expect(start, 'a "## Limits" chapter').toBeGreaterThanOrEqual(0);
    const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
    const chapter = lines.slice(start, end < 0 ? undefined : end);
    const problems: string[] = [];
    for (const [key, value] of Object.entries(defaultLimits)) {
      if (!protocolMd.includes(key)) {
        problems.push(`${key} is not mentioned`);
        continue;
      }
      const row = chapter.find((line) => line.startsWith(`| \`${key}\` |`));
      if (!row) {
        problems.push(`${key} has no row in the limits table`);
        continue;
      }
      const defaults = Array.isArray(value) ? value.map(String) : [String(value)];
      for (const expected of defaults) {
        if (!row.includes(expected)) problems.push(`${key}: default ${expected} is not in its row`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists every WebSocket close code', () => {
    const rows = protocolMd.split('\n').filter((line) => line.startsWith('| '));
    const missing = Object.entries(CloseCodes)
      .filter(([name, code]) => !rows.some((row) => row.startsWith(`| ${code} | \`${name}\` |`)))
      .map(([name, code]) => `${code} ${name}`);
    expect(missing).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  const rows = errorsMd
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => /^`[A-Z][A-Z0-9_]*`$/.test(cells[0] ?? ''));
  const documented = rows.map((cells) => cells[0]!.slice(1, -1));

  it('lists exactly the error codes of system/core/errors.ts, once each', () => {
    expect([...documented].sort()).toEqual([...errorCodeList].sort());
    expect(new Set(documented).size, 'a code is listed twice').toBe(documented.length);
  });

  it('gives each code the retryable value the server sends', () => {
    const wrong = rows
      .filter((cells) => errorCodeList.includes(cells[0]!.slice(1, -1) as ErrorCode))
      .filter((cells) => {
        const code = cells[0]!.slice(1, -1) as ErrorCode;
        const column = cells[2]?.toLowerCase();
        return column !== (new ChatError(code).retryable ? 'yes' : 'no');
      })
      .map((cells) => `${cells[0]}: ${cells[2]}`);
    expect(wrong).toEqual([]);
  });

  it('fills in every column of every row', () => {
    const incomplete = rows.filter((cells) => cells.length !== 5 || cells.some((cell) => cell.length === 0)).map((cells) => cells[0]);
    expect(incomplete).toEqual([]);
  });

  it('has JSON examples that are valid error frames', () => {
    const blocks = scanMarkdown(errorsMd).jsonBlocks;
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const result = serverFrameSchemas.error.safeParse(JSON.parse(block.text));
      expect(result.success, `errors.md line ${block.line}`).toBe(true);
    }
  });
});
