/**
 * History independence: the app hash is a function of the state only, not of
 * the path that led to it.
 *
 * Block time, account numbers, sequences, public keys and the fee collector
 * are state too, so each scenario keeps them equal on both paths: the same
 * genesis, the same number of blocks with the same times, recipients that
 * already exist (no account is created in a different order; the fee
 * collector's account is created by the first fee on both paths), every
 * signer signs the same number of txs with the same fee, and balances never
 * run short on either path. What differs is which transfers happen, in which
 * order and in which block; the final balances are equal by construction.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';
import { hex, stateDiff, stateEntries } from '../helpers/state.js';

interface Transfer {
  from: number;
  to: number;
  amount: bigint;
}

const BALANCE = 1_000_000_000n;
const N = 6;

/** Run `blocks` (lists of transfers by key index) on a fresh chain; returns the chain and the app hash after each block. */
async function run(blocks: Transfer[][]): Promise<{ chain: TestChain; hashes: string[] }> {
  const chain = TestChain.create({ accounts: N, balance: BALANCE });
  const k = chain.keys as TestKey[];
  const hashes: string[] = [];
  chain.block(); // genesis committed: account numbers are fixed before any transfer
  for (const b of blocks) {
    const txs: Uint8Array[] = [];
    for (const t of b) txs.push(await chain.send(k[t.from]!, k[t.to]!.address, t.amount));
    const r = chain.block(txs);
    r.txResults.forEach((x, i) => expect(x.code, `block ${hashes.length + 2} tx ${i}: ${x.log}`).toBe(0));
    hashes.push(hex(r.appHash));
  }
  return { chain, hashes };
}

function net(blocks: Transfer[][]): bigint[] {
  const out = new Array<bigint>(N).fill(0n);
  for (const t of blocks.flat()) {
    out[t.from]! -= t.amount;
    out[t.to]! += t.amount;
  }
  return out;
}

function perSigner(blocks: Transfer[][]): number[] {
  const out = new Array<number>(N).fill(0);
  for (const t of blocks.flat()) out[t.from]!++;
  return out;
}

describe('history independence: equal states hash equally, whatever the path', () => {
  it('two different sets of transfers with the same net effect give the same app hash', async () => {
    // X: 0 → 1 100, 1 → 2 100, 3 → 4 70, 4 → 3 20            (net: 0 −100, 2 +100, 3 −50, 4 +50)
    // Y: 0 → 2 100, 1 → 1 5 (self-send), 4 → 3 20 … in other blocks and orders, 3 → 4 70
    const X: Transfer[][] = [
      [{ from: 0, to: 1, amount: 100n }, { from: 3, to: 4, amount: 70n }],
      [{ from: 1, to: 2, amount: 100n }],
      [{ from: 4, to: 3, amount: 20n }],
    ];
    const Y: Transfer[][] = [
      [{ from: 4, to: 3, amount: 20n }],
      [{ from: 1, to: 1, amount: 5n }, { from: 0, to: 2, amount: 100n }],
      [{ from: 3, to: 4, amount: 70n }],
    ];
    expect(net(X)).toEqual(net(Y.map((b) => b.filter((t) => t.from !== t.to))));
    expect(perSigner(X)).toEqual(perSigner(Y));
    const x = await run(X);
    const y = await run(Y);
    expect(x.hashes[0]).not.toBe(y.hashes[0]); // the intermediate states really differ
    expect(stateDiff(x.chain.app, y.chain.app)).toEqual([]);
    expect(x.hashes.at(-1)).toBe(y.hashes.at(-1));
  });

  it('the same transfers in any order and any split into blocks give the same app hash (property)', async () => {
    const transfer = fc.record({ from: fc.integer({ min: 0, max: N - 1 }), to: fc.integer({ min: 0, max: N - 1 }), amount: fc.bigInt({ min: 1n, max: 1_000_000n }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(transfer, { minLength: 1, maxLength: 24 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 48, maxLength: 48 }),
        async (transfers, nBlocks, noise) => {
          // Path X: the transfers in the given order, cut into nBlocks blocks evenly.
          const split = (xs: Transfer[], cut: (i: number) => number): Transfer[][] => {
            const out: Transfer[][] = Array.from({ length: nBlocks }, () => []);
            xs.forEach((t, i) => out[cut(i)]!.push(t));
            return out;
          };
          const X = split(transfers, (i) => Math.floor((i * nBlocks) / transfers.length));
          // Path Y: a permutation (driven by `noise`) cut into the same number of blocks at other points.
          const order = transfers.map((t, i) => ({ t, key: noise[i]! })).sort((a, b) => a.key - b.key).map((e) => e.t);
          const Y = split(order, (i) => noise[24 + i]! % nBlocks);
          expect(net(X)).toEqual(net(Y));
          expect(perSigner(X)).toEqual(perSigner(Y));
          const x = await run(X);
          const y = await run(Y);
          expect(x.hashes.at(-1)).toBe(y.hashes.at(-1));
          expect(stateEntries(x.chain.app)).toEqual(stateEntries(y.chain.app));
        },
      ),
      { numRuns: 25, seed: 99 },
    );
  });

  it('the same balances reached with a different number of blocks differ in the block time key only, and hash differently', async () => {
    // A negative control: time is state, so paths with different block counts must NOT hash equally
    // (if they did, the hash would be missing part of the state).
    const x = await run([[{ from: 0, to: 1, amount: 5n }], []]);
    const y = await run([[{ from: 0, to: 1, amount: 5n }]]);
    expect(stateDiff(x.chain.app, y.chain.app)).toEqual(['app/time/']);
    expect(hex(x.chain.app.appHash)).not.toBe(hex(y.chain.app.appHash));
  });
});
