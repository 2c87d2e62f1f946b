import type { IncarnationStore } from '../ports/incarnation-store.js';
import type { Random } from '../ports/random.js';

/** Random bytes of a new incarnation id (32 hex digits). */
const INCARNATION_BYTES = 16;

/**
 * The incarnation of the log this core serves (ports/incarnation-store.ts), sent to every client
 * in `welcome`. Read once per core, at gateway start: the stored one when the world keeps one,
 * else (first start, or a world without a store) a new id drawn from the Random port — so the
 * simulator's ids come from its seed.
 */
export class LogIncarnation {
  private value: string | undefined;
  private loading: Promise<string> | undefined;

  constructor(private readonly deps: { random: Random; incarnations?: IncarnationStore | undefined }) {}

  /** The incarnation, once start() has resolved. */
  get current(): string | undefined {
    return this.value;
  }

  /**
   * Reads the incarnation, storing a new one when the stores hold none. Worlds call it before
   * accepting connections; a session that finds it not read yet waits for it. A failed read is
   * tried again by the next call.
   */
  start(): Promise<string> {
    if (this.loading) return this.loading;
    const candidate = this.deps.random.hex(INCARNATION_BYTES);
    const store = this.deps.incarnations;
    const loading = (store ? store.establish(candidate) : Promise.resolve(candidate)).then(
      (incarnation) => {
        this.value = incarnation;
        return incarnation;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    this.loading = loading;
    return loading;
  }
}
