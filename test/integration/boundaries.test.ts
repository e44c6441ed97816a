import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { amendMsg, btc, depositMsg, place, usd } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Checks a mutation review could delete without any test failing, each now tested at its boundary, through
 * signed txs in blocks (not CheckTx, which refuses some of them earlier): market status refusals for
 * placement and amend, send_enabled, a send of exactly the balance, the fee funds check and the block gas
 * limit. Devnet markets: BTC-USD at $65,000.
 */
const keys = testKeys(6, 'boundaries');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];
const [poor] = testKeys(1, 'boundaries-unfunded') as [TestKey]; // not in genesis
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function chain(extra: Record<string, unknown> = {}): TestChain {
  return TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]), ...extra } });
}

async function setStatus(c: TestChain, status: 'reduce_only' | 'halted' | 'active') {
  const m = c.app.keepers.perpetuals.market(c.app.state, 0);
  const msg = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m!, status }) } };
  expectOk(c.block([await c.sign(authority, [msg])]).txResults[0]!);
}

describe('market status in the block', () => {
  it('a halted market refuses placements and amends; a reduce-only market refuses risk-increasing placements', async () => {
    const c = chain();
    c.block();
    c.block([await c.sign(alice, [depositMsg(alice.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!);
    await setStatus(c, 'halted');
    expect(code(c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!)).toBe('clob/12');
    expect(code(c.block([await c.sign(alice, [amendMsg(alice.address, { clientId: 1 }, usd(60_000), btc(0.005))])]).txResults[0]!)).toBe('clob/12');
    await setStatus(c, 'reduce_only');
    expect(code(c.block([await place(c, alice, { clientId: 3, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!)).toBe('clob/13');
    await setStatus(c, 'active');
    expectOk(c.block([await place(c, alice, { clientId: 4, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!);
  });
});

describe('bank and fee boundaries in the block', () => {
  it('send_enabled = false refuses MsgSend in the block too (not only in CheckTx)', async () => {
    const c = chain({ bank: { params: { send_enabled: false }, balances: keys.map((k) => ({ address: k.address, amount: '10000000000000' })) } });
    c.block();
    const r = c.block([await c.send(alice, bob.address, 1n)]).txResults[0]!;
    expect(r.codespace).toBe('bank');
    expect(r.code).not.toBe(0);
    expect(c.balance(bob.address)).toBe(10_000_000_000_000n);
  });

  it('a send of exactly what is left after the fee succeeds; one uusdc more fails', async () => {
    const c = chain();
    c.block();
    const fee = 1_000n;
    expectOk(c.block([await c.send(alice, poor.address, 50_000n)]).txResults[0]!);
    const over = c.block([await c.send(poor, bob.address, 50_000n - fee + 1n, { fee, gas: 100_000n })]).txResults[0]!;
    expect(code(over)).toBe('bank/2');
    const left = c.balance(poor.address); // the failed tx kept its fee
    expectOk(c.block([await c.send(poor, bob.address, left - fee, { fee, gas: 100_000n })]).txResults[0]!);
    expect(c.balance(poor.address)).toBe(0n);
  });

  it('the fee funds check: a balance one short of the fee is refused before anything runs; exactly the fee pays it', async () => {
    const c = chain();
    c.block();
    const fee = 1_000n;
    expectOk(c.block([await c.send(alice, poor.address, fee - 1n)]).txResults[0]!);
    const short = c.block([await c.send(poor, bob.address, 1n, { fee, gas: 100_000n })]).txResults[0]!;
    expect(code(short)).toBe('tx/16');
    expect(c.balance(poor.address)).toBe(fee - 1n);
    expectOk(c.block([await c.send(alice, poor.address, 1n)]).txResults[0]!);
    const exact = c.block([await c.send(poor, bob.address, 1n, { fee, gas: 100_000n })]).txResults[0]!;
    expect(code(exact)).toBe('bank/2'); // the fee was paid (the send then finds nothing left)
    expect(c.balance(poor.address)).toBe(0n);
  });

  it('a gas limit of exactly the block limit is accepted; one more is refused', async () => {
    const c = chain();
    c.block();
    const maxGas = c.app.consensusParams().block.maxGas;
    expectOk(c.block([await c.send(alice, bob.address, 1n, { gas: maxGas })]).txResults[0]!);
    const r = c.app.checkTx({ tx: await c.send(alice, bob.address, 1n, { gas: maxGas + 1n }), type: 'new' });
    expect(r.codespace).toBe('tx');
    expect(r.log).toMatch(/gas limit 200000001, block limit 200000000/);
  });
});
