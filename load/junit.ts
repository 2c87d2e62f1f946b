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
 * (`invariant.<name>`), failures carrying the measured value or the witnesses; an interrupted run
 * adds a failing `run.interrupted` case (it neither passed nor failed as a whole).
 */
export function junitXml(summary: RunSummary): string {
  const suite = `${summary.kind}.${summary.scenario}`;
  const cases: TestCase[] = [];
  for (const o of summary.slo.objectives) {
    const actual = o.actual === null ? 'not measured' : String(Math.round(o.actual * 1000) / 1000);
    cases.push({
      name: o.name,
      classname: `${suite}.slo`,
      ...(o.passed
        ? {}
        : { failure: { message: `${o.name} = ${actual}, target ${o.target}`, detail: `measured ${actual}; target ${o.target}` } }),
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
  if (summary.interrupted) {
    const i = summary.interrupted;
    const message = `interrupted by ${i.signal} in ${i.phase} after ${i.after_s} s: a partial run`;
    cases.push({
      name: 'interrupted',
      classname: `${suite}.run`,
      failure: { message, detail: `${message}; the cases above judge the part that ran` },
    });
  }
  return suiteXml(suite, cases, summary.wall_s);
}

/** A run that could not be carried out (exit 3), as one failing case, so a JUnit viewer shows why. */
export function couldNotRunJunitXml(run: { kind: string; scenario: string; code: string; message: string }): string {
  const suite = `${run.kind}.${run.scenario}`;
  return suiteXml(
    suite,
    [
      {
        name: 'could_not_run',
        classname: `${suite}.run`,
        failure: { message: `${run.code}: ${firstLine(run.message)}`, detail: run.message },
      },
    ],
    0,
  );
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

function suiteXml(suite: string, cases: readonly TestCase[], wallS: number): string {
  const failures = cases.filter((c) => c.failure).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" time="${wallS}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" time="${wallS}">`,
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
