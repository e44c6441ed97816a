import { type Command } from 'commander';
import { formatVerifyResult, verifyChain } from './index.js';

/**
 * `perpchain verify`: replay a node's block log from genesis and confirm every
 * app hash (see ./index.ts). Exit code 0 when everything agrees, 1 when a
 * height differs or the log/state has a problem, 2 when the inputs are missing.
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("re-execute a node's block log from genesis in a fresh in-memory App and confirm every app hash (and the node's current state)")
    .option('--home <dir>', 'node home: replays data/state.db (in one read snapshot; the node may keep running) from the InitChain request it recorded, or from config/genesis.json when it recorded none')
    .option('--genesis <file>', 'genesis file (instead of --home)')
    .option('--db <file>', 'the node\'s state.db (instead of --home)')
    .option('--check-invariants', 'also check every module invariant after every replayed block')
    .option('--stop-at-first', 'stop at the first differing height (default: replay on to tell an altered hash from a diverged state)')
    .option('--json', 'print the result as JSON')
    .action((o: { home?: string; genesis?: string; db?: string; checkInvariants?: boolean; stopAtFirst?: boolean; json?: boolean }) => {
      let result;
      try {
        result = verifyChain({
          ...(o.home ? { home: o.home } : {}),
          ...(o.genesis ? { genesis: o.genesis } : {}),
          ...(o.db ? { db: o.db } : {}),
          checkInvariants: o.checkInvariants ?? false,
          stopAtFirst: o.stopAtFirst ?? false,
          onProgress: (p) => process.stderr.write(`  verified ${p.height} / ${p.last} (${p.blocks} blocks, ${p.txs} txs, ${Math.round(p.blocks / (p.ms / 1000))} blocks/s)\n`),
        });
      } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exit(2);
      }
      console.log(o.json ? JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) : formatVerifyResult(result));
      process.exit(result.ok ? 0 : 1);
    });
}
