import { describe, expect, it } from 'vitest';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { moduleAddress } from '../../chain/codec/address.js';
import { btc, depositMsg, place, usd } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Collateral leaving a subaccount (MsgWithdraw, MsgTransfer): where it may go, when it may not leave, and
 * what CheckTx refuses before a fee is paid. Regressions from a review of the subaccounts module.
 */
const keys = testKeys(5, 'outflow');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];
const POOL = moduleAddress('subaccounts');

const withdrawMsg = (owner: string, amount: bigint, recipient = ''): EncodeObject => ({ typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner, subaccountNumber: 0, amount: amount.toString(), recipient } });
const transferMsg = (owner: string, toOwner: string, amount: bigint, fromNumber = 0, toNumber = 0): EncodeObject => ({ typeUrl: '/perpchain.subaccounts.v1.MsgTransfer', value: { owner, fromNumber, toOwner, toNumber, amount: amount.toString() } });
const code = (r: { codespace: string; code: number }) => `${r.codespace}/${r.code}`;

async function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
  c.block();
  c.block([await c.sign(alice, [depositMsg(alice.address, 1_000_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
  return c;
}

/** CheckTx's answer, then the same tx in a block (which must refuse it too, with the same code). */
async function both(c: TestChain, k: TestKey, msg: EncodeObject): Promise<{ check: string; deliver: ExecTxResult }> {
  const tx = await c.sign(k, [msg]);
  const check = code(c.app.checkTx({ tx, type: 'new' }));
  return { check, deliver: c.block([tx]).txResults[0]! };
}

describe('collateral outflows', () => {
  it('refuses a withdrawal or transfer to a module account (the pool itself broke conservation)', async () => {
    const c = await setup();
    const hash = Buffer.from(c.app.appHash).toString('hex');
    for (const module of [POOL, moduleAddress('insurance_fund'), moduleAddress('fee_collector')]) {
      const w = await both(c, alice, withdrawMsg(alice.address, 1n, module));
      expect([w.check, code(w.deliver)]).toEqual(['subaccounts/8', 'subaccounts/8']);
      expect(w.deliver.log).toContain('module account');
      const t = await both(c, alice, transferMsg(alice.address, module, 1n));
      expect([t.check, code(t.deliver)]).toEqual(['subaccounts/8', 'subaccounts/8']);
    }
    expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).collateral).toBe('1000000000');
    expect(c.app.runInvariants()).toEqual([]);
    expect(Buffer.from(c.app.appHash).toString('hex')).not.toBe(hash); // (fees and sequences moved, nothing else)
  });

  it('refuses taking collateral out while a held market\'s oracle price is stale (in the block), but not from a subaccount without positions', async () => {
    const c = await setup();
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.01) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.01) })]).txResults.forEach(expectOk);
    c.block([], 120_000_000_000n); // two minutes without a price report (staleness 60 s)
    const w = await both(c, alice, withdrawMsg(alice.address, 1_000_000n));
    // CheckTx leaves staleness to the block (under vote extensions the next block's tx 0 may refresh the price)
    expect([w.check, code(w.deliver)]).toEqual(['/0', 'subaccounts/9']);
    const t = await both(c, alice, transferMsg(alice.address, alice.address, 1_000_000n, 0, 1));
    expect(code(t.deliver)).toBe('subaccounts/9');
    // a subaccount without positions is not exposed to the stale market
    expectOk(c.block([await c.sign(bob, [depositMsg(bob.address, 5_000_000n, 2)])]).txResults[0]!);
    const free = await both(c, bob, { typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner: bob.address, subaccountNumber: 2, amount: '5000000', recipient: '' } });
    expect([free.check, code(free.deliver)]).toEqual(['/0', '/0']);
  });

  it('CheckTx refuses only what nothing earlier can change; a deposit and a transfer out of it in one tx pass CheckTx and the block', async () => {
    const c = await setup();
    // a transfer to itself is refused before any fee
    const self = c.app.checkTx({ tx: await c.sign(alice, [transferMsg(alice.address, alice.address, 1n)]), type: 'new' });
    expect(code(self)).toBe('subaccounts/2');
    c.resyncSequences();
    // money that an earlier message of the same tx brings in is not refused by CheckTx
    const tx = await c.sign(bob, [depositMsg(bob.address, 5_000_000n, 3), transferMsg(bob.address, alice.address, 5_000_000n, 3, 0)]);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('/0');
    expectOk(c.block([tx]).txResults[0]!);
    // and a deposit above the bank balance fails in the block with the bank's own error
    const rich = c.balance(alice.address);
    expect(code(c.block([await c.sign(alice, [depositMsg(alice.address, rich + 1n)])]).txResults[0]!)).toBe('bank/2');
  });

  it('the subaccount query validates its arguments', async () => {
    const c = await setup();
    for (const path of ['garbage/0', `${alice.address.toUpperCase()}/0`, `${alice.address}/0x7f`, `${alice.address}/1e2`, `${alice.address}/`, `${alice.address}/128`]) {
      const r = c.app.query({ path: `subaccounts/subaccount/${path}`, data: new Uint8Array(), height: 0n, prove: false });
      expect(code(r), path).toBe('query/4');
    }
    expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).collateral).toBe('1000000000');
  });
});
