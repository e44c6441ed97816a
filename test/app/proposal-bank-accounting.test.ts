import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg, sendMsg, withdrawMsg } from '../helpers/orders.js';

/**
 * PrepareProposal's per-sender accounting (ARCHITECTURE.md §5, *Packing a block*): a sender's fees, sends and
 * deposits in the block are counted against its committed balance, and a tx that would take it past that
 * balance waits, with the sender's later txs (they follow it in sequence order). The bound is inclusive (a
 * sender may spend its balance down to 0), it is cumulative over all of the sender's txs in the block, and
 * only a withdrawal to the sender itself counts for its sends.
 *
 * Every tx here pays FEE with gas GAS, so a sender's spending is exact to the uusdc.
 */
const keys = testKeys(3, 'proposal-bank-accounting');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const BALANCE = 1_000_000n;
const GAS = 100_000n;
const FEE = 100n; // = ⌈100,000 · 1000 / 10⁶⌉, the least the ante accepts
const USD = 1_000_000n;

function fresh(balance = BALANCE): TestChain {
  const c = TestChain.create({ keys, balance });
  c.block();
  return c;
}

const propose = (c: TestChain, txs: Uint8Array[]) =>
  c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs, localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) }).txs;

/** Names of the proposed txs, for readable failures. */
const names = (proposed: Uint8Array[], named: Record<string, Uint8Array>) => proposed.map((t) => Object.entries(named).find(([, v]) => v === t)?.[0] ?? '?');

describe('PrepareProposal: what a sender spends in the block, against its committed balance', () => {
  it('a tx that spends the balance exactly to 0 is proposed and runs; one uusdc more is held back', async () => {
    const c = fresh();
    const seq = c.nextSequence(alice.address);
    const exact = await c.send(alice, bob.address, BALANCE - FEE, { gas: GAS, fee: FEE, sequence: seq });
    const over = await c.send(alice, bob.address, BALANCE - FEE + 1n, { gas: GAS, fee: FEE, sequence: seq });
    expect(propose(c, [over])).toEqual([]);
    expect(propose(c, [exact])).toEqual([exact]);
    expectOk(c.block([exact]).txResults[0]!);
    expect(c.balance(alice.address)).toBe(0n);
  });

  it('counts every earlier tx of the sender in the block, not only the last one', async () => {
    // three sends of 300,000 (+ fee 100): two fit in 1,000,000, the third would take alice to -300,300
    const c = fresh();
    const t1 = await c.send(alice, bob.address, 300_000n, { gas: GAS, fee: FEE });
    const t2 = await c.send(alice, bob.address, 300_000n, { gas: GAS, fee: FEE });
    const t3 = await c.send(alice, bob.address, 300_000n, { gas: GAS, fee: FEE });
    const t4 = await c.send(alice, bob.address, 300_000n, { gas: GAS, fee: FEE });
    const other = await c.send(carol, bob.address, 1n, { gas: GAS, fee: FEE });
    const proposed = propose(c, [t1, t2, t3, t4, other]);
    expect(names(proposed, { t1, t2, t3, t4, other })).toEqual(['t1', 't2', 't3', 'other']);
    // the block confirms the count: all three pay, and a fourth could not have
    c.block(proposed).txResults.forEach((r) => expectOk(r));
    expect(c.balance(alice.address)).toBe(BALANCE - 3n * (300_000n + FEE));
    expect(c.balance(alice.address)).toBeLessThan(300_000n + FEE);
  });

  it('a withdrawal to someone else does not pay for the sender\'s send in the same tx', async () => {
    // alice: $1,000, $900 of it in subaccount 0. [withdraw $500 to carol, send $500 to bob] fails its send in
    // the block (bank/2): the proposer must not count carol's $500 as alice's.
    const c = fresh(1_000n * USD);
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 900n * USD)], { gas: GAS, fee: FEE })]).txResults[0]!);
    const seq = c.nextSequence(alice.address);
    const toCarol = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD, { recipient: carol.address }), sendMsg(alice.address, bob.address, 500n * USD)], { gas: GAS, fee: FEE, sequence: seq });
    const toSelf = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD), sendMsg(alice.address, bob.address, 500n * USD)], { gas: GAS, fee: FEE, sequence: seq });
    expect(propose(c, [toCarol])).toEqual([]);
    expect(propose(c, [toSelf])).toEqual([toSelf]);
    const r = c.block([toCarol]).txResults[0]!; // what it would have done in a block
    expect(`${r.codespace}/${r.code}`).toBe('bank/2');
  });

  it('a tx held back for its spending holds back the sender\'s later txs too (without it they fail on their sequence)', async () => {
    const c = fresh();
    const big = await c.send(alice, bob.address, BALANCE, { gas: GAS, fee: FEE }); // cannot pay: balance + fee
    const small = await c.send(alice, bob.address, 1n, { gas: GAS, fee: FEE }); // affordable alone, next sequence
    const other = await c.send(carol, bob.address, 1n, { gas: GAS, fee: FEE });
    expect(names(propose(c, [big, small, other]), { big, small, other })).toEqual(['other']);
    // what `small` would have done in the block without `big`: fail on its sequence (after taking block room)
    const r = c.block([small]).txResults[0]!;
    expect(`${r.codespace}/${r.code}`).toBe('tx/12');
  });
});
