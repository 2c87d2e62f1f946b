import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildServer {
  wsUrl: string;
  httpUrl?: string;
  nodeId?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

// Generous: a gateway loads TypeScript through tsx and connects to Cassandra; on a loaded 2-core machine that can take a while.
const READY_TIMEOUT_MS = 90_000;

/** Starts a server script in its own process and waits for its `READY {json}` line. */
export function startChildServer(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not print READY within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before READY`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice(6)) as { wsUrl: string; httpUrl?: string; nodeId?: string };
      resolve({
        ...info,
        process: child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}
