import { readFileSync } from 'node:fs';

/** The globals k6 gives a script without imports: __ENV, __VU, __ITER and the init-context open(). */
export function installK6Globals(env: Record<string, string>): void {
  const globals = globalThis as unknown as Record<string, unknown>;
  globals.__ENV = { ...env };
  globals.__VU = 0;
  globals.__ITER = 0;
  globals.open = (path: string, mode?: 'b') => (mode === 'b' ? readFileSync(path).buffer : readFileSync(path, 'utf8'));
}

/** Which VU and iteration the code runs as, the way k6 numbers them (VUs from 1, iterations from 0). */
export function setK6Iteration(vu: number, iteration: number): void {
  const globals = globalThis as unknown as Record<string, unknown>;
  globals.__VU = vu;
  globals.__ITER = iteration;
}
