import { describe, expect, it } from 'vitest';
import { App, DEFAULT_CONSENSUS_PARAMS } from '../../chain/app.js';
import type { ExecTxResult } from '../../chain/types.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID, TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';

/**
 * The block gas limit (consensus param block.max_gas) is the sum of the txs' gas limits (gas_wanted), and it
 * is inclusive: txs that add up to exactly max_gas fill a block. The proposer, ProcessProposal and
 * FinalizeBlock must draw the line at the same place, or an honest proposal is rejected (a lost round) or a
 * block runs more gas than every node agreed to. FinalizeBlock counts the gas of every earlier tx of the block,
 * and a tx past the limit fails before its ante: no fee, no sequence.
 *
 * Here max_gas is 300,000 (set in genesis), and txs ask for 100,000 and 200,000: exactly the block.
 */
const keys = testKeys(3, 'block-gas-limit');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const MAX_GAS = 300_000n;
const BALANCE = 1_000_000_000n;
const FEE = 1_000n; // ≥ ⌈gas · 1000 / 10⁶⌉ for every limit here
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function chain(): TestChain {
  const c = TestChain.create({ keys, balance: BALANCE });
  const app = App.open();
  app.initChain({
    chainId: TEST_CHAIN_ID,
    timeNs: GENESIS_TIME_NS,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(c.appState)),
    consensusParams: { block: { maxBytes: DEFAULT_CONSENSUS_PARAMS.block.maxBytes, maxGas: MAX_GAS }, abci: { voteExtensionsEnableHeight: 0n } },
  });
  c.reopen(app);
  c.block();
  expect(c.app.consensusParams().block.maxGas).toBe(MAX_GAS);
  return c;
}

const meta = (c: TestChain) => ({ localLastCommit: { round: 0, votes: [] }, proposedLastCommit: { round: 0, votes: [] }, hash: new Uint8Array(32), height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) });

describe('block.max_gas is inclusive, and the same for proposer, ProcessProposal and FinalizeBlock', () => {
  it('txs whose gas limits add up to exactly max_gas are proposed, accepted and all run', async () => {
    const c = chain();
    const t1 = await c.send(alice, carol.address, 1n, { gas: 100_000n, fee: FEE });
    const t2 = await c.send(bob, carol.address, 1n, { gas: MAX_GAS - 100_000n, fee: FEE });
    expect(c.app.prepareProposal({ ...meta(c), maxTxBytes: 1_000_000n, txs: [t1, t2] }).txs).toEqual([t1, t2]);
    expect(c.app.processProposal({ ...meta(c), txs: [t1, t2] })).toBe('accept');
    c.block([t1, t2]).txResults.forEach((r) => expectOk(r));
  });

  it('one unit of gas more: the proposer leaves the tx out, ProcessProposal rejects a block with it, FinalizeBlock fails it without a fee', async () => {
    const c = chain();
    const t1 = await c.send(alice, carol.address, 1n, { gas: 100_000n, fee: FEE });
    const t2 = await c.send(bob, carol.address, 1n, { gas: MAX_GAS - 100_000n + 1n, fee: FEE });
    expect(c.app.prepareProposal({ ...meta(c), maxTxBytes: 1_000_000n, txs: [t1, t2] }).txs).toEqual([t1]);
    expect(c.app.processProposal({ ...meta(c), txs: [t1, t2] })).toBe('reject');
    // each alone fits
    expect(c.app.processProposal({ ...meta(c), txs: [t2] })).toBe('accept');
    // a decided block is executed whatever it holds: t2 finds only 200,000 gas left after t1's 100,000
    const bob0 = c.balance(bob.address);
    const [r1, r2] = c.block([t1, t2]).txResults as [ExecTxResult, ExecTxResult];
    expectOk(r1);
    expect(code(r2)).toBe('tx/24');
    expect(r2.log).toMatch(/tx wants 200001 gas, 200000 left in the block/);
    expect(c.balance(bob.address)).toBe(bob0); // no fee, no send
    expect(c.queryJson<{ sequence: string }>(`auth/account/${bob.address}`).sequence).toBe('0'); // the sequence is unused
  });
});
