import { describe, expect, it } from 'vitest';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg } from '../helpers/orders.js';
import type { CheckTxResult } from '../../chain/types.js';

/**
 * A send paid for by a withdrawal from the sender's own subaccount. CheckTx runs no message, so its
 * balance precheck used to see only the bank balance: a tx [withdraw $500, send $500] from an account
 * whose dollars sit in its subaccount was refused (bank/2), and the proposer held it back forever (it
 * counted the send, not the withdrawal), though the block accepts it. Now the withdrawal counts for the
 * sends after it: in the same tx, and (at CheckTx) in the sender's later pending txs. What the sender
 * does not have, even with its pending withdrawals, is still refused before it costs a fee.
 */
const keys = testKeys(3, 'withdraw-then-send');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const code = (r: CheckTxResult) => `${r.codespace}/${r.code}`;
const USD = 1_000_000n;
const withdrawMsg = (owner: string, amount: bigint): EncodeObject => ({ typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner, subaccountNumber: 0, amount: amount.toString(), recipient: '' } });
const sendMsg = (from: string, to: string, amount: bigint): EncodeObject => ({ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: from, toAddress: to, amount: amount.toString() } });

/** alice: $1,000 in the bank, $900 of it deposited into subaccount 0, so ~$100 left in the bank. */
async function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 1_000n * USD });
  c.block();
  expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 900n * USD)])]).txResults[0]!);
  return c;
}

const propose = (c: TestChain, txs: Uint8Array[]) =>
  c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs, localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) }).txs;

describe('a send paid for by a withdrawal', () => {
  it('in the same tx: CheckTx accepts it, the proposer includes it, the block runs it', async () => {
    const c = await setup();
    const bob0 = c.balance(bob.address);
    const tx = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD), sendMsg(alice.address, bob.address, 500n * USD)]);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('/0');
    expect(propose(c, [tx])).toEqual([tx]);
    expectOk(c.block([tx]).txResults[0]!);
    expect(c.balance(bob.address) - bob0).toBe(500n * USD);
  });

  it('the withdrawal must come first, and covers only what it brings', async () => {
    const c = await setup();
    const sequence = c.nextSequence(alice.address); // both txs are refused, so both may use it
    const sendFirst = await c.sign(alice, [sendMsg(alice.address, bob.address, 500n * USD), withdrawMsg(alice.address, 500n * USD)], { sequence });
    expect(code(c.app.checkTx({ tx: sendFirst, type: 'new' }))).toBe('bank/2');
    // bank (~$100 after fees) + $500 withdrawn is short of $700
    const tooMuch = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD), sendMsg(alice.address, bob.address, 700n * USD)], { sequence });
    const r = c.app.checkTx({ tx: tooMuch, type: 'new' });
    expect(code(r)).toBe('bank/2');
    expect(r.log).toMatch(/and 500000000 from its pending withdrawals/);
    // and the proposer does not include a tx its own messages cannot pay for
    expect(propose(c, [tooMuch])).toEqual([]);
  });

  it('in a later pending tx of the sender: CheckTx credits the pending withdrawal; the send follows it a block later', async () => {
    const c = await setup();
    const tx1 = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD)]);
    const tx2 = await c.sign(alice, [sendMsg(alice.address, bob.address, 500n * USD)]);
    const stranger = await c.sign(carol, [sendMsg(carol.address, bob.address, 2_000n * USD)]); // carol has $1,000 and nothing pending
    expect(code(c.app.checkTx({ tx: tx1, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: tx2, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: stranger, type: 'new' }))).toBe('bank/2');
    // the proposer does not lend tx1's withdrawal to tx2 (it may fail): tx2 waits for the next block
    expect(propose(c, [tx1, tx2])).toEqual([tx1]);
    expectOk(c.block([tx1]).txResults[0]!);
    // after the commit the check state restarts from the committed balance, which now holds the $500
    expect(code(c.app.checkTx({ tx: tx2, type: 'recheck' }))).toBe('/0');
    expect(propose(c, [tx2])).toEqual([tx2]);
    expectOk(c.block([tx2]).txResults[0]!);
  });

  it('the credit ends with the check state: once the withdrawal is gone, the send is refused at recheck', async () => {
    const c = await setup();
    const s0 = c.nextSequence(alice.address);
    const tx1 = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD)]); // sequence s0
    const tx2 = await c.sign(alice, [sendMsg(alice.address, bob.address, 500n * USD)]); // s0 + 1
    expect(code(c.app.checkTx({ tx: tx1, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: tx2, type: 'new' }))).toBe('/0');
    // another tx of alice's took sequence s0 in the block, so tx1 will never run (its recheck fails on the sequence)
    expectOk(c.block([await c.sign(alice, [sendMsg(alice.address, carol.address, 1n)], { sequence: s0 })]).txResults[0]!);
    expect(code(c.app.checkTx({ tx: tx1, type: 'recheck' }))).toBe('tx/12');
    // tx2's sequence is now the right one, but nothing vouches for its $500 any more
    expect(code(c.app.checkTx({ tx: tx2, type: 'recheck' }))).toBe('bank/2');
  });
});

/**
 * What CheckTx counts must be what the block can do (a review's reproductions): a withdrawal vouches for no
 * more than its subaccount holds, and once; sends and deposits of pending txs and earlier messages use up the
 * balance. Otherwise such txs passed CheckTx and every recheck, the proposer held them back forever, and they
 * sat in the mempool fee-free, holding back their sender's later txs and taking room from everyone else's.
 */
describe('CheckTx counts pending sends, deposits and withdrawals as the block will', () => {
  it('a withdrawal vouches for at most what its subaccount holds', async () => {
    const c = await setup(); // $900 in the subaccount, ~$100 in the bank
    const tx = await c.sign(alice, [withdrawMsg(alice.address, 1_000_000n * USD), sendMsg(alice.address, bob.address, 1_000_000n * USD)]);
    const r = c.app.checkTx({ tx, type: 'new' });
    expect(code(r)).toBe('bank/2');
    expect(r.log).toMatch(/and 900000000 from its pending withdrawals/);
  });

  it('one pending withdrawal backs one send, not every later one', async () => {
    const c = await setup();
    const w = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD)]);
    const s1 = await c.sign(alice, [sendMsg(alice.address, bob.address, 500n * USD)]);
    const s2 = await c.sign(alice, [sendMsg(alice.address, bob.address, 500n * USD)]);
    expect(code(c.app.checkTx({ tx: w, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: s1, type: 'new' }))).toBe('/0');
    const r = c.app.checkTx({ tx: s2, type: 'new' });
    expect(code(r)).toBe('bank/2');
  });

  it('two sends that each fit but not together: refused, in one tx and across pending txs', async () => {
    const c = await setup(); // ~$100 in the bank
    const seq = c.nextSequence(alice.address);
    const both = await c.sign(alice, [sendMsg(alice.address, bob.address, 60n * USD), sendMsg(alice.address, carol.address, 60n * USD)], { sequence: seq });
    expect(code(c.app.checkTx({ tx: both, type: 'new' }))).toBe('bank/2');
    const first = await c.sign(alice, [sendMsg(alice.address, bob.address, 60n * USD)], { sequence: seq });
    const second = await c.sign(alice, [sendMsg(alice.address, carol.address, 60n * USD)], { sequence: seq + 1n });
    expect(code(c.app.checkTx({ tx: first, type: 'new' }))).toBe('/0');
    const r = c.app.checkTx({ tx: second, type: 'new' });
    expect(code(r)).toBe('bank/2');
    expect(r.log).toMatch(/60000000 of it spent by its pending txs/);
  });

  it('a deposit of more than the bank balance is refused at CheckTx (it used to wait in the mempool forever)', async () => {
    const c = await setup();
    const seq = c.nextSequence(alice.address);
    expect(code(c.app.checkTx({ tx: await c.sign(alice, [depositMsg(alice.address, 1_000n * USD)], { sequence: seq }), type: 'new' }))).toBe('bank/2');
    // a deposit paid for by a withdrawal from another subaccount of the same owner earlier in the tx is fine
    const move = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD), depositMsg(alice.address, 500n * USD, 1)], { sequence: seq });
    expect(code(c.app.checkTx({ tx: move, type: 'new' }))).toBe('/0');
    expect(propose(c, [move])).toEqual([move]);
    expectOk(c.block([move]).txResults[0]!);
  });
});
