export * from './distributions.js';
export * from './faults.js';
export * from './rate.js';
export * from './read-scenario.js';
export * from './scenario-schema.js';
