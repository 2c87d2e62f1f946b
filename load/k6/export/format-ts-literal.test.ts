import { describe, expect, it } from 'vitest';
import { formatTsLiteral } from './format-ts-literal.js';

describe('formatTsLiteral', () => {
  it('keeps short values on one line, with unquoted keys and single-quoted strings', () => {
    expect(formatTsLiteral({ target: 150, duration: '0s' })).toBe("{ target: 150, duration: '0s' }");
  });

  it('quotes keys that are not identifiers, and quotes inside strings', () => {
    expect(formatTsLiteral({ 'spike-3x': "it's", 'm{phase:steady}': ['p(99)<200'] })).toBe(
      "{ 'spike-3x': 'it\\'s', 'm{phase:steady}': ['p(99)<200'] }",
    );
  });

  it('breaks long values one entry a line, with trailing commas', () => {
    const stages = Array.from({ length: 6 }, (_, i) => ({ target: i * 100, duration: `${i}s` }));
    expect(formatTsLiteral({ stages })).toBe(
      `{\n  stages: [\n${stages.map((s) => `    { target: ${s.target}, duration: '${s.duration}' },`).join('\n')}\n  ],\n}`,
    );
  });

  it('drops undefined fields as JSON would', () => {
    expect(formatTsLiteral({ a: 1, b: undefined })).toBe('{ a: 1 }');
  });
});
