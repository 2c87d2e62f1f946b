import type { RunSummary } from '../checker/run-summary.js';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface TestCase {
  name: string;
  classname: string;
  failure?: { message: string; detail: string };
}

/**
 * JUnit XML for CI: one test case per objective (`slo.<name>`) and one per invariant
 * (`invariant.<name>`), failures carrying the measured value or the witnesses.
 */
export function junitXml(summary: RunSummary): string {
  const suite = `${summary.kind}.${summary.scenario}`;
  const cases: TestCase[] = [];
  for (const o of summary.slo.objectives) {
    const actual = o.actual === null ? 'not measured' : String(Math.round(o.actual * 1000) / 1000);
    cases.push({
      name: o.name,
      classname: `${suite}.slo`,
      ...(o.passed ? {} : { failure: { message: `${o.name} = ${actual}, target ${o.target}`, detail: `measured ${actual}; target ${o.target}` } }),
    });
  }
  for (const name of summary.invariants.checked) {
    const witnesses = summary.invariants.witnesses.filter((w) => w.invariant === name);
    cases.push({
      name,
      classname: `${suite}.invariant`,
      ...(witnesses.length === 0
        ? {}
        : { failure: { message: `${witnesses.length} violation(s) of ${name}`, detail: witnesses.map((w) => w.witness).join('\n\n') } }),
    });
  }
  const failures = cases.filter((c) => c.failure).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" time="${summary.wall_s}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" time="${summary.wall_s}">`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}"`;
    if (!c.failure) lines.push(`${open}/>`);
    else {
      lines.push(`${open}>`);
      lines.push(`      <failure message="${escapeXml(c.failure.message)}">${escapeXml(c.failure.detail)}</failure>`);
      lines.push('    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
