import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import type { AbciEvent, CheckTxResult, ExecTxResult } from '../../chain/types.js';

/**
 * MsgSend rules a mutation review could break without any test failing, through signed txs:
 *  - CheckTx's precheck refuses what the block surely would (sends disabled, more than the balance left after
 *    the fee), so such a tx never enters the mempool and never pays a fee for nothing; and it refuses no more
 *    than that (a send of exactly what is left after the fee passes);
 *  - the bank.transfer event names the sender and the recipient the right way round (clients and indexers
 *    find a trader's sends by the indexed `sender` attribute).
 */
const keys = testKeys(2, 'msgsend-checktx');
const [alice, bob] = keys as [TestKey, TestKey];
const [poor] = testKeys(1, 'msgsend-checktx-unfunded') as [TestKey]; // not in genesis
const code = (r: CheckTxResult | ExecTxResult) => `${r.codespace}/${r.code}`;
const BALANCE = 1_000_000_000n;
const FEE = 1_000n; // what TestChain signs for gas 100,000 at the minimum gas price (1,000 micro-uusdc per gas)

function chain(sendEnabled = true): TestChain {
  const c = TestChain.create({
    keys,
    appState: { bank: { params: { send_enabled: sendEnabled }, balances: keys.map((k) => ({ address: k.address, amount: BALANCE.toString() })) } },
  });
  c.block(); // genesis committed
  return c;
}

function attrs(e: AbciEvent): Record<string, string> {
  return Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
}

describe('MsgSend at CheckTx', () => {
  it('send_enabled = false: CheckTx refuses the send (bank/5) before it reaches the mempool; no fee, no sequence', async () => {
    const c = chain(false);
    const tx = await c.send(alice, bob.address, 1n);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('bank/5');
    // the check state is untouched: the same tx (same sequence) is refused the same way, not as a replay
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('bank/5');
    // and the block refuses it with the same code (the fee it pays there is the proposer's problem, not CheckTx's)
    expect(code(c.block([tx]).txResults[0]!)).toBe('bank/5');
    expect(c.balance(bob.address)).toBe(BALANCE);
  });

  it('a send of exactly the balance left after the fee passes CheckTx; one uusdc more is refused (bank/2)', async () => {
    const c = chain();
    const fund = 50_000n;
    expectOk(c.block([await c.send(alice, poor.address, fund)]).txResults[0]!);
    const over = await c.send(poor, bob.address, fund - FEE + 1n, { fee: FEE, gas: 100_000n, sequence: 0n });
    expect(code(c.app.checkTx({ tx: over, type: 'new' }))).toBe('bank/2');
    const exact = await c.send(poor, bob.address, fund - FEE, { fee: FEE, gas: 100_000n, sequence: 0n });
    expect(code(c.app.checkTx({ tx: exact, type: 'new' }))).toBe('/0');
    expectOk(c.block([exact]).txResults[0]!);
    expect([c.balance(poor.address), c.balance(bob.address)]).toEqual([0n, BALANCE + fund - FEE]);
  });
});

describe('MsgSend events', () => {
  it('bank.transfer names sender = from_address and recipient = to_address, both indexed, with reason "send"', async () => {
    const c = chain();
    const r = expectOk(c.block([await c.send(alice, bob.address, 7n)]).txResults[0]!);
    const transfers = r.events.filter((e) => e.type === 'bank.transfer').map(attrs);
    expect(transfers.find((t) => t.reason === 'send')).toEqual({ sender: alice.address, recipient: bob.address, amount: '7', reason: 'send' });
    // the fee is a transfer too: from the signer to the fee collector
    expect(transfers.find((t) => t.reason === 'fee')?.sender).toBe(alice.address);
    const send = r.events.find((e) => e.type === 'bank.transfer' && attrs(e).reason === 'send')!;
    expect(send.attributes.filter((a) => a.index).map((a) => a.key)).toEqual(['sender', 'recipient']);
  });
});
