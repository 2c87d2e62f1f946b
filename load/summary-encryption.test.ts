import { describe, expect, it } from 'vitest';
import { exitCodeOf, formatSummary, summarizeViolations, type RunSummary } from '../checker/run-summary.js';
import { addDecryptionInvariant } from './summary.js';

describe('decryption judged like an invariant', () => {
  it('a decrypt failure makes the run exit 1 and shows its witness', () => {
    const invariants = summarizeViolations(['durability', 'order'], [], 0);
    addDecryptionInvariant(invariants, 3, [
      {
        device: 'r-u1/phone',
        conversationId: 'd:r-u1:r-u2',
        seq: 7,
        sender: 'r-u2/phone',
        code: 'DECRYPT_FAILED',
        message: 'the message did not decrypt or authenticate',
      },
    ]);
    expect(invariants.violations).toBe(3);
    expect(invariants.checked).toContain('decryption');
    const summary: RunSummary = {
      kind: 'load',
      scenario: 's',
      seed: 1,
      users: 2,
      devices: 2,
      messages: { sent: 1, acked: 1, delivered: 1 },
      latency_ms: { ack: { p50: 1, p95: 1, p99: 1, p999: 1, max: 1 }, deliver: { p50: 1, p95: 1, p99: 1, p999: 1, max: 1 } },
      invariants,
      slo: { passed: true, objectives: [] },
      wall_s: 1,
    };
    expect(exitCodeOf(summary)).toBe(1);
    expect(formatSummary(summary)).toContain('decryption: r-u1/phone could not read d:r-u1:r-u2#7 from r-u2/phone: DECRYPT_FAILED');
  });

  it('no failure: listed as checked, nothing added', () => {
    const invariants = summarizeViolations(['durability'], [], 0);
    addDecryptionInvariant(invariants, 0, []);
    expect(invariants).toMatchObject({ violations: 0, witnesses: [] });
    expect(exitCodeOf({ invariants, slo: { passed: true, objectives: [] } })).toBe(0);
  });
});
