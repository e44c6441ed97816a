/**
 * Property tests (fast-check) over the whole App: for any sequence of
 * actions — deposits, withdrawals, transfers, sends, orders of every type and
 * time-in-force with arbitrary prices and sizes, cancels, amends, oracle
 * moves of any size (past the 10% clamp), time jumps across the funding hour
 * — executed in blocks:
 *
 *   1. every invariant holds after every block: the modules' own
 *      (App.runInvariants: supply, conservation and OI, book uncrossed and
 *      engine = store, index complete, …) and the whole-chain uusdc ledger and
 *      order checks (lib/ledger.ts), plus per-order accounting from the events
 *      (lib/orders-ledger.ts);
 *   2. a tx that fails changes nothing but its fee and sequence: a twin App is
 *      fed, for each tx, the same tx if it succeeded, a fee-only twin if its
 *      messages failed, nothing if it failed its ante handler — and the two
 *      app hashes are equal after every block.
 *
 * On failure fast-check shrinks to a minimal action list.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { World, action, type Action } from './lib/world.js';

const RUNS = Number(process.env.RELIABILITY_PROPERTY_RUNS ?? 10);

describe('properties of the whole App under arbitrary action sequences (fast-check)', () => {
  it('after every block: every invariant holds, per-order accounting adds up, failed txs keep only fee and sequence', () => {
    let blocks = 0;
    let txs = 0;
    fc.assert(
      fc.property(fc.array(fc.array(action, { minLength: 1, maxLength: 6 }), { minLength: 3, maxLength: 18 }), (plan) => {
        const w = new World();
        // fund subaccounts first so orders have margin to work with
        const setup: Action[] = [0, 1, 2, 3, 4, 5].map((i) => ({ k: 'deposit', who: i, n: 0, usd: i === 5 ? 3_000 : 100_000 })); // #5 thinly margined
        expect(w.block(setup)).toEqual([]);
        for (const actions of plan) {
          const problems = w.block(actions);
          blocks++;
          txs += actions.length;
          if (problems.length) throw new Error(`at height ${w.F.height}: ${problems.join('; ')}`);
        }
        const open = w.ledger.checkOpen(w.F);
        if (open.length) throw new Error(open.join('; '));
      }),
      { numRuns: RUNS, seed: 20260501, endOnFailure: false },
    );
    expect(blocks).toBeGreaterThan(RUNS * 3);
    expect(txs).toBeGreaterThan(RUNS * 3);
    // the actions did things: a fair share succeeded, orders filled, prices moved
    expect(World.ok).toBeGreaterThan(World.failed / 4);
    for (const e of ['clob.fill', 'prices.update', 'clob.order_placed']) expect(World.events.get(e) ?? 0, e).toBeGreaterThan(0);
    if (process.env.RELIABILITY_PROPERTY_RUNS) console.log(`property runs ${RUNS}: ${blocks} blocks, ${txs} actions, ${World.ok} txs ok, ${World.failed} failed; events ${[...World.events].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  });
});
