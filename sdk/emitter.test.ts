import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';

type Events = { ping: (n: number) => void; pong: () => void };

class TestEmitter extends Emitter<Events> {
  failures: unknown[] = [];
  fire(n: number): void {
    this.emit('ping', n);
  }
  protected override listenerFailed(_name: keyof Events, error: unknown): void {
    this.failures.push(error);
  }
}

describe('Emitter', () => {
  it('calls listeners in order, supports off and once', () => {
    const emitter = new TestEmitter();
    const seen: string[] = [];
    const off = emitter.on('ping', (n) => seen.push(`a${n}`));
    emitter.once('ping', (n) => seen.push(`b${n}`));
    emitter.fire(1);
    off();
    emitter.fire(2);
    expect(seen).toEqual(['a1', 'b1']);
    expect(emitter.listenerCount('ping')).toBe(0);
  });

  it('keeps calling the other listeners when one throws', () => {
    const emitter = new TestEmitter();
    const seen: number[] = [];
    emitter.on('ping', () => {
      throw new Error('boom');
    });
    emitter.on('ping', (n) => seen.push(n));
    emitter.fire(7);
    expect(seen).toEqual([7]);
    expect(emitter.failures).toHaveLength(1);
  });
});
