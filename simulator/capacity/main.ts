import { runCapacityCli } from './capacity-cli.js';

// `npm run capacity`: the entry point; everything else lives in capacity-cli.ts (testable without a process).
process.exitCode = await runCapacityCli(process.argv.slice(2));
