import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg, sendMsg, withdrawMsg } from '../helpers/orders.js';
import type { CheckTxResult } from '../../chain/types.js';

/**
 * CheckTx's per-signer view of what its pending txs do to its bank balance (App.checkBankNet): a withdrawal
 * counts for the signer's later sends and deposits only when the signer itself receives it. A withdrawal to
 * someone else brings the signer nothing; crediting it let a send through CheckTx that the block surely
 * refuses (bank/2), and it then sat in the mempool fee-free while the proposer held it back.
 *
 * The view adds up over all of the signer's pending txs, and it ends at Commit: the committed balance then
 * shows what the block did, and counting the block's sends again would refuse txs the next block accepts.
 */
const keys = testKeys(3, 'checktx-pending-bank');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const USD = 1_000_000n;
const code = (r: CheckTxResult) => `${r.codespace}/${r.code}`;

/** alice: $1,000 in the bank, $900 of it deposited into subaccount 0, so ~$100 left in the bank. */
async function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 1_000n * USD });
  c.block();
  expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 900n * USD)])]).txResults[0]!);
  return c;
}

describe('a withdrawal to another recipient vouches for nothing of the signer\'s', () => {
  it('in the same tx: [withdraw $500 to bob, send $500 from alice] is refused; the block would refuse the send too', async () => {
    const c = await setup();
    const seq = c.nextSequence(alice.address);
    const tx = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD, { recipient: bob.address }), sendMsg(alice.address, carol.address, 500n * USD)], { sequence: seq });
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('bank/2');
    // the block agrees: the withdrawal goes to bob, alice's ~$100 cannot pay $500
    const r = c.block([tx]).txResults[0]!;
    expect(`${r.codespace}/${r.code}`).toBe('bank/2');
    // the same tx with the withdrawal to alice herself is admitted (the rule is about the recipient)
    const own = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD), sendMsg(alice.address, carol.address, 500n * USD)]);
    expect(code(c.app.checkTx({ tx: own, type: 'new' }))).toBe('/0');
  });

  it('in an earlier pending tx: alice\'s withdrawal to bob does not back alice\'s later send', async () => {
    const c = await setup();
    const toBob = await c.sign(alice, [withdrawMsg(alice.address, 500n * USD, { recipient: bob.address })]);
    const send = await c.sign(alice, [sendMsg(alice.address, carol.address, 500n * USD)]);
    expect(code(c.app.checkTx({ tx: toBob, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: send, type: 'new' }))).toBe('bank/2');
  });
});

describe('pending sends add up, and are forgotten at Commit', () => {
  it('three pending sends of $40 from ~$100: the third is refused (each pending send counts, not only the last)', async () => {
    const c = await setup(); // ~$100 in the bank
    const s1 = await c.sign(alice, [sendMsg(alice.address, bob.address, 40n * USD)]);
    const s2 = await c.sign(alice, [sendMsg(alice.address, bob.address, 40n * USD)]);
    const s3 = await c.sign(alice, [sendMsg(alice.address, bob.address, 40n * USD)]);
    expect(code(c.app.checkTx({ tx: s1, type: 'new' }))).toBe('/0');
    expect(code(c.app.checkTx({ tx: s2, type: 'new' }))).toBe('/0');
    const r = c.app.checkTx({ tx: s3, type: 'new' });
    expect(code(r)).toBe('bank/2');
    expect(r.log).toMatch(/80000000 of it spent by its pending txs/);
  });

  it('a send the block has made is in the committed balance; it no longer counts as pending', async () => {
    const c = await setup(); // ~$100 in the bank
    const s1 = await c.sign(alice, [sendMsg(alice.address, bob.address, 60n * USD)]);
    expect(code(c.app.checkTx({ tx: s1, type: 'new' }))).toBe('/0');
    expectOk(c.block([s1]).txResults[0]!);
    const left = c.balance(alice.address); // ~$40
    expect(left).toBeGreaterThan(30n * USD);
    // $30 of the ~$40 left: fits; still counting s1's $60 would refuse it
    const s2 = await c.sign(alice, [sendMsg(alice.address, bob.address, 30n * USD)]);
    expect(code(c.app.checkTx({ tx: s2, type: 'new' }))).toBe('/0');
    expectOk(c.block([s2]).txResults[0]!);
  });
});
