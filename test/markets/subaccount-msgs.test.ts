import { describe, expect, it } from 'vitest';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg } from '../helpers/orders.js';
import { account } from '../helpers/state.js';
import type { CheckTxResult, ExecTxResult } from '../../chain/types.js';

/**
 * The stateless rules of MsgDeposit / MsgWithdraw / MsgTransfer (validateBasic, run by the ante handler):
 * what they refuse must be refused at CheckTx, before a fee is paid, and in the block with the same code;
 * what they allow must pass. Regressions from a mutation review of modules/subaccounts/msgs.ts: each rule
 * below could be deleted or widened without any other test failing.
 */
const keys = testKeys(3, 'subaccount-msgs');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const MALFORMED = 'perp1notanaddress';
const code = (r: CheckTxResult | ExecTxResult) => `${r.codespace}/${r.code}`;

const withdrawMsg = (owner: string, amount: bigint, recipient = '', subaccountNumber = 0): EncodeObject => ({
  typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw',
  value: { owner, subaccountNumber, amount: amount.toString(), recipient },
});
const transferMsg = (owner: string, toOwner: string, amount: bigint, fromNumber = 0, toNumber = 0): EncodeObject => ({
  typeUrl: '/perpchain.subaccounts.v1.MsgTransfer',
  value: { owner, fromNumber, toOwner, toNumber, amount: amount.toString() },
});

/** alice and bob each hold 1,000,000 uusdc of collateral in subaccount 0. */
async function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 1_000_000_000n });
  c.block();
  c.block([await c.sign(alice, [depositMsg(alice.address, 1_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 1_000_000n)])]).txResults.forEach(expectOk);
  return c;
}

const collateral = (c: TestChain, owner: string, n = 0): string => c.queryJson(`subaccounts/subaccount/${owner}/${n}`).collateral;

/** A message refused by validateBasic: CheckTx and the block give `expected`, and the signer pays nothing. */
async function refusedStateless(c: TestChain, k: TestKey, msg: EncodeObject, expected: string): Promise<void> {
  const before = { balance: c.balance(k.address), sequence: account(c.app, k.address)!.sequence };
  const tx = await c.sign(k, [msg]);
  expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe(expected);
  expect(code(c.block([tx]).txResults[0]!)).toBe(expected);
  expect({ balance: c.balance(k.address), sequence: account(c.app, k.address)!.sequence }).toEqual(before); // the ante refused it: no fee, no sequence
}

describe('MsgWithdraw', () => {
  it('a malformed recipient is refused (subaccounts/8) before anything moves, and no account is created for it', async () => {
    // Without this check the block would pay the pool's uusdc to a string that no key controls.
    const c = await setup();
    await refusedStateless(c, alice, withdrawMsg(alice.address, 1n, MALFORMED), 'subaccounts/8');
    expect(collateral(c, alice.address)).toBe('1000000');
    expect(account(c.app, MALFORMED)).toBeUndefined();
  });

  it('pays the named recipient, not the owner; an empty recipient means the owner', async () => {
    const c = await setup();
    const [a0, c0] = [c.balance(alice.address), c.balance(carol.address)];
    expectOk(c.block([await c.sign(alice, [withdrawMsg(alice.address, 300n, carol.address)])]).txResults[0]!);
    const fee = a0 - c.balance(alice.address); // alice paid only the fee: the 300 went to carol
    expect(c.balance(carol.address)).toBe(c0 + 300n);
    expectOk(c.block([await c.sign(alice, [withdrawMsg(alice.address, 200n)])]).txResults[0]!);
    expect(c.balance(alice.address)).toBe(a0 - 2n * fee + 200n);
    expect(collateral(c, alice.address)).toBe('999500');
  });
});

describe('MsgTransfer', () => {
  it('a malformed to_owner is refused (subaccounts/8) before a fee', async () => {
    const c = await setup();
    await refusedStateless(c, alice, transferMsg(alice.address, MALFORMED, 1n), 'subaccounts/8');
    expect(collateral(c, alice.address)).toBe('1000000');
  });

  it('the destination subaccount number is checked too: 127 is the last one, 128 is refused (subaccounts/2) before a fee', async () => {
    const c = await setup();
    await refusedStateless(c, alice, transferMsg(alice.address, bob.address, 1n, 0, 128), 'subaccounts/2');
    expectOk(c.block([await c.sign(alice, [transferMsg(alice.address, bob.address, 1n, 0, 127)])]).txResults[0]!);
    expect(collateral(c, bob.address, 127)).toBe('1');
  });

  it('only the very same subaccount is refused as destination: the same number of another owner, or another number of the same owner, is fine', async () => {
    const c = await setup();
    await refusedStateless(c, alice, transferMsg(alice.address, alice.address, 1n, 0, 0), 'subaccounts/2');
    expectOk(c.block([await c.sign(alice, [transferMsg(alice.address, bob.address, 10n, 0, 0)])]).txResults[0]!);
    expectOk(c.block([await c.sign(alice, [transferMsg(alice.address, alice.address, 20n, 0, 1)])]).txResults[0]!);
    expect([collateral(c, alice.address, 0), collateral(c, alice.address, 1), collateral(c, bob.address, 0)]).toEqual(['999970', '20', '1000010']);
  });
});

describe('MsgDeposit', () => {
  it('subaccount 128 and an amount of 0 are refused before a fee (subaccounts/2, subaccounts/4)', async () => {
    const c = await setup();
    await refusedStateless(c, alice, depositMsg(alice.address, 1n, 128), 'subaccounts/2');
    await refusedStateless(c, alice, depositMsg(alice.address, 0n), 'subaccounts/4');
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 1n, 127)])]).txResults[0]!);
    expect(collateral(c, alice.address, 127)).toBe('1');
  });
});

describe('MsgDeposit in PrepareProposal', () => {
  it('counts a deposit as money leaving the bank balance: a later tx whose fee the deposit spends is held back', async () => {
    // As for MsgSend (bad-inputs.test.ts): CheckTx runs no message, so tx2's fee passes it against the
    // committed balance; in the block tx1's deposit has taken that balance, tx2 would fail its fee (tx/16),
    // pay nothing, and its gas limit would have kept carol's tx out.
    const c = await setup();
    const maxGas = c.app.consensusParams().block.maxGas;
    const g1 = 100_000n;
    const fee1 = (g1 * 1000n + 999_999n) / 1_000_000n;
    const tx1 = await c.sign(alice, [depositMsg(alice.address, c.balance(alice.address) - fee1)], { gas: g1 });
    const tx2 = await c.send(alice, bob.address, 1n, { gas: maxGas - g1 - 100_000n });
    const other = await c.send(carol, bob.address, 1n, { gas: 100_000n });
    for (const t of [tx1, other]) expect(code(c.app.checkTx({ tx: t, type: 'new' }))).toBe('/0');
    // CheckTx now counts tx1's pending deposit and refuses tx2 at entry; the proposer still guards (a tx another
    // node's mempool admitted before tx1 reached it)
    expect(code(c.app.checkTx({ tx: tx2, type: 'new' }))).toBe('bank/2');
    const prop = c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [tx1, tx2, other], localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) });
    expect(prop.txs.map((t) => (t === tx1 ? 'deposit' : t === tx2 ? 'fee it spends' : t === other ? 'carol' : '?'))).toEqual(['deposit', 'carol']);
  });
});
