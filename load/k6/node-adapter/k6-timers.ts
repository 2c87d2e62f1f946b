/** `k6/timers` on Node: k6 hands out numeric ids, Node timer objects; this maps between them. */
const timers = new Map<number, NodeJS.Timeout>();
let nextId = 1;

export function setTimeout(callback: (...args: unknown[]) => void, delayMs: number, ...args: unknown[]): number {
  const id = nextId++;
  timers.set(
    id,
    globalThis.setTimeout(() => {
      timers.delete(id);
      callback(...args);
    }, delayMs),
  );
  return id;
}

export function clearTimeout(id: number): void {
  globalThis.clearTimeout(timers.get(id));
  timers.delete(id);
}

export function setInterval(callback: (...args: unknown[]) => void, intervalMs: number, ...args: unknown[]): number {
  const id = nextId++;
  timers.set(
    id,
    globalThis.setInterval(() => callback(...args), intervalMs),
  );
  return id;
}

export function clearInterval(id: number): void {
  globalThis.clearInterval(timers.get(id));
  timers.delete(id);
}
