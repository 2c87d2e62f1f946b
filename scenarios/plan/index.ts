export * from './planned-population.js';
export * from './sample.js';
