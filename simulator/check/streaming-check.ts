import { StreamingChecker } from '../../checker/streaming/streaming-checker.js';

/** The simulator's streaming checker: the checker's bounded-memory front (see checker/streaming). */
export { StreamingChecker as StreamingCheck };
