import { describe, expect, it } from 'vitest';
import { AuthInfo, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg, sendMsg, withdrawMsg } from '../helpers/orders.js';
import type { CheckTxResult } from '../../chain/types.js';

/**
 * Edges of the pending-collateral cap (chain/pending-collateral.ts) that pending-collateral.test.ts leaves
 * open (mutation round): an increase from another pending tx never backs a withdrawal (it may still fail),
 * a tx that CheckTx refuses or the proposer leaves out leaves nothing behind, and several changes to one
 * subaccount add up, within a tx and across admitted txs.
 */
const keys = testKeys(2, 'pending-collateral-edges');
const [alice, bob] = keys as [TestKey, TestKey];
const code = (r: CheckTxResult) => `${r.codespace}/${r.code}`;
const USD = 1_000_000n;
const propose = (c: TestChain, txs: Uint8Array[]) =>
  c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs, localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) }).txs;

/** alice: $1,000 in the bank, $900 of it in subaccount 0 (about $100 left in the bank after the fee). */
function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 1_000n * USD });
  c.block();
  return c.sign(alice, [depositMsg(alice.address, 900n * USD)]).then((tx) => {
    expectOk(c.block([tx]).txResults[0]!);
    return c;
  });
}

/** The same tx with its fee in another denom: the proposer's fee check throws after it looked at the messages. */
function withForeignFeeDenom(tx: Uint8Array): Uint8Array {
  const raw = TxRaw.decode(tx);
  const auth = AuthInfo.decode(raw.authInfoBytes);
  auth.fee!.amount = auth.fee!.amount.map((c) => ({ ...c, denom: 'uatom' }));
  return TxRaw.encode({ ...raw, authInfoBytes: AuthInfo.encode(auth).finish() }).finish();
}

describe('pending collateral: what other txs leave behind', () => {
  it('a deposit in an admitted pending tx does not back a withdrawal in a later tx (that deposit may still fail)', async () => {
    const c = await setup();
    const deposit = await c.sign(alice, [depositMsg(alice.address, 90n * USD, 1)]);
    const withdrawSend = await c.sign(alice, [withdrawMsg(alice.address, 90n * USD, { number: 1 }), sendMsg(alice.address, bob.address, 50n * USD)]);
    expect(code(c.app.checkTx({ tx: deposit, type: 'new' }))).toBe('/0');
    // about $10 left in the bank; subaccount 1 holds nothing committed, and the pending deposit is not counted
    expect(code(c.app.checkTx({ tx: withdrawSend, type: 'new' }))).toBe('bank/2');
  });

  it('a tx CheckTx refuses leaves none of its changes behind for the next tx', async () => {
    const c = await setup();
    const seq = c.nextSequence(alice.address);
    // deposit $90 into subaccount 1, then a send the bank cannot cover: refused after the deposit was counted
    const refused = await c.sign(alice, [depositMsg(alice.address, 90n * USD, 1), sendMsg(alice.address, bob.address, 5_000n * USD)], { sequence: seq });
    expect(code(c.app.checkTx({ tx: refused, type: 'new' }))).toBe('bank/2');
    // about $100 in the bank, nothing in subaccount 1: a $150 send is not covered
    const fromEmpty = await c.sign(alice, [withdrawMsg(alice.address, 90n * USD, { number: 1 }), sendMsg(alice.address, bob.address, 150n * USD)], { sequence: seq });
    expect(code(c.app.checkTx({ tx: fromEmpty, type: 'new' }))).toBe('bank/2');
    // (the same from subaccount 0, which holds $900, is)
    const fromFull = await c.sign(alice, [withdrawMsg(alice.address, 90n * USD), sendMsg(alice.address, bob.address, 150n * USD)], { sequence: seq });
    expect(code(c.app.checkTx({ tx: fromFull, type: 'new' }))).toBe('/0');
  });

  it('a tx the proposer leaves out (a fee it refuses) leaves none of its changes behind for the next tx', async () => {
    const c = await setup();
    const seq = c.nextSequence(alice.address);
    const bad = withForeignFeeDenom(await c.sign(alice, [depositMsg(alice.address, 90n * USD, 1)], { sequence: seq }));
    expect(propose(c, [bad])).toEqual([]);
    // about $100 in the bank, nothing in subaccount 1: a $150 send is not covered
    const fromEmpty = await c.sign(alice, [withdrawMsg(alice.address, 90n * USD, { number: 1 }), sendMsg(alice.address, bob.address, 150n * USD)], { sequence: seq });
    expect(propose(c, [bad, fromEmpty])).toEqual([]);
    const fromFull = await c.sign(alice, [withdrawMsg(alice.address, 90n * USD), sendMsg(alice.address, bob.address, 150n * USD)], { sequence: seq });
    expect(propose(c, [bad, fromFull])).toEqual([fromFull]);
  });
});

describe('pending collateral: several changes to one subaccount add up', () => {
  it('three withdrawals of $400 from $900 in one tx vouch for $900, not $1,200', async () => {
    const c = await setup();
    const w = () => withdrawMsg(alice.address, 400n * USD);
    const tx = await c.sign(alice, [w(), w(), w(), sendMsg(alice.address, bob.address, 1_050n * USD)]);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('bank/2');
    expect(propose(c, [tx])).toEqual([]);
    // $900 is credited: a $950 send is covered by it and the ~$100 in the bank (the third withdrawal fails in the block)
    const c2 = await setup();
    const ok = await c2.sign(alice, [w(), w(), w(), sendMsg(alice.address, bob.address, 950n * USD)]);
    expect(code(c2.app.checkTx({ tx: ok, type: 'new' }))).toBe('/0');
    expect(propose(c2, [ok])).toEqual([ok]);
  });

  it('two deposits into one subaccount in a tx both back a withdrawal after them', async () => {
    const c = await setup();
    const tx = await c.sign(alice, [depositMsg(alice.address, 40n * USD, 1), depositMsg(alice.address, 40n * USD, 1), withdrawMsg(alice.address, 80n * USD, { number: 1 }), sendMsg(alice.address, bob.address, 95n * USD)]);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('/0');
    expect(propose(c, [tx])).toEqual([tx]);
    expectOk(c.block([tx]).txResults[0]!);
  });

  it('the decreases of two admitted withdrawals add up: $900 less $400 and $400 leaves $100 for a third', async () => {
    const c = await setup();
    const w1 = await c.sign(alice, [withdrawMsg(alice.address, 400n * USD)]);
    const w2 = await c.sign(alice, [withdrawMsg(alice.address, 400n * USD)]);
    // CheckTx: ~$100 + $800 pending in the bank, plus the $100 left for this withdrawal: a $1,050 send is too much
    const tooMuch = await c.sign(alice, [withdrawMsg(alice.address, 900n * USD), sendMsg(alice.address, bob.address, 1_050n * USD)]);
    expect(code(c.app.checkTx({ tx: w1, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: w2, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: tooMuch, type: 'new' }))).toBe('bank/2');
    // the proposer (a withdrawal credits its own tx only): $100 + ~$100 in the bank do not cover $250
    const c2 = await setup();
    const s = c2.nextSequence(alice.address);
    const v1 = await c2.sign(alice, [withdrawMsg(alice.address, 400n * USD)]);
    const v2 = await c2.sign(alice, [withdrawMsg(alice.address, 400n * USD)]);
    const v3 = await c2.sign(alice, [withdrawMsg(alice.address, 900n * USD), sendMsg(alice.address, bob.address, 250n * USD)]);
    expect(propose(c2, [v1, v2, v3])).toEqual([v1, v2]);
    const v3ok = await c2.sign(alice, [withdrawMsg(alice.address, 900n * USD), sendMsg(alice.address, bob.address, 150n * USD)], { sequence: s + 2n });
    expect(propose(c2, [v1, v2, v3ok])).toEqual([v1, v2, v3ok]);
  });
});
