// Worker thread of a parallel sweep (sim/sweep.ts runSweepParallel). Runs the
// TypeScript sources through tsx, as bin/perpchain.mjs does, so it works from
// the CLI, the tests and the benchmarks alike.
import { register } from 'tsx/esm/api';

register();
await import('./sweep-worker-main.ts');
