import type { KVReader } from './store/kv.js';

/** State key holding the time (ns, decimal) of the latest block; written by the App every block. */
export const LAST_BLOCK_TIME_KEY = 'app/time/';

/** Block time (s) of the latest block in `state` (queries use it to judge staleness). */
export function lastBlockTimeSec(state: KVReader): bigint {
  const b = state.get(LAST_BLOCK_TIME_KEY);
  return b ? BigInt(Buffer.from(b).toString()) / 1_000_000_000n : 0n;
}
