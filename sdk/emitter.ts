/** Listener signatures by event name, e.g. `{ event: (e: ConversationEvent) => void }`. */
export type EventMap = { [name: string]: (...args: never[]) => void };

/**
 * A minimal typed event emitter. Not Node's EventEmitter: no 'error'-throws-when-unheard rule
 * (a load run with thousands of clients rarely listens to every client's errors), and listener
 * arrays are created only for events somebody listens to, to keep idle clients small.
 */
export class Emitter<E extends EventMap> {
  private listeners: { [K in keyof E]?: Array<E[K]> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(name: K, listener: E[K]): () => void {
    (this.listeners[name] ??= []).push(listener);
    return () => this.off(name, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof E>(name: K, listener: E[K]): () => void {
    const wrapper = ((...args: Parameters<E[K]>) => {
      this.off(name, wrapper);
      (listener as (...a: Parameters<E[K]>) => void)(...args);
    }) as unknown as E[K];
    return this.on(name, wrapper);
  }

  off<K extends keyof E>(name: K, listener: E[K]): void {
    const list = this.listeners[name];
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) delete this.listeners[name];
  }

  listenerCount<K extends keyof E>(name: K): number {
    return this.listeners[name]?.length ?? 0;
  }

  /**
   * Calls every listener. A listener that throws must not corrupt the caller's state half-way
   * through a frame, so the error goes to listenerFailed() instead of up the stack.
   */
  protected emit<K extends keyof E>(name: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners[name];
    if (!list) return;
    // Copy when there is more than one: a listener may remove itself (once) while we iterate.
    const snapshot = list.length === 1 ? list : list.slice();
    for (const listener of snapshot) {
      try {
        (listener as (...a: Parameters<E[K]>) => void)(...args);
      } catch (error) {
        this.listenerFailed(name, error);
      }
    }
  }

  /** Default: rethrow outside our call stack, where it surfaces as an uncaught exception. */
  protected listenerFailed(_name: keyof E, error: unknown): void {
    queueMicrotask(() => {
      throw error;
    });
  }
}
