import fc from 'fast-check';

/*
 * Property tests draw a fresh seed on every local run (more inputs explored over time), but CI
 * uses a fixed one so a run is reproducible; FC_SEED overrides both. A failure prints the seed
 * and path that reproduce it.
 */
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20_261_128 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });
