import { blockFor } from './blocking-wait.js';
import { recordSample } from './recorded-samples.js';

/** The `k6` module on Node: check(), sleep(), fail() and group() with k6's semantics. */

/** Like k6, each check is a sample of the built-in `checks` rate, tagged with the check's name. */
export function check<T>(value: T, sets: Record<string, (value: T) => boolean>, tags: Record<string, string> = {}): boolean {
  let all = true;
  for (const [name, test] of Object.entries(sets)) {
    let passed: boolean;
    try {
      passed = Boolean(test(value));
    } catch {
      passed = false;
    }
    recordSample('checks', 'rate', Number(passed), { ...tags, check: name });
    all &&= passed;
  }
  return all;
}

export function sleep(seconds: number): void {
  blockFor(seconds * 1000);
}

export function fail(message?: string): never {
  throw new Error(message ?? 'iteration failed');
}

export function group<T>(_name: string, body: () => T): T {
  return body();
}
