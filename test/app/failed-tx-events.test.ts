import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { eventsOf, sendMsg } from '../helpers/orders.js';

/**
 * A tx whose messages fail keeps only its ante's effects (fee, sequence), and its result reports only the
 * ante's events. Events are what indexers, the API's feeds and wallets read: a transfer event of a message
 * the block reverted would report money that never moved.
 *
 * Here alice's tx sends 5 uusdc to bob, then far more than she has to carol: the second send fails (bank/2),
 * so the first one is reverted with it.
 */
const keys = testKeys(3, 'failed-tx-events');
const [alice, bob, carol] = keys as [TestKey, TestKey, TestKey];
const BALANCE = 1_000_000_000n;
const FEE = 200n;

describe('a tx whose messages fail', () => {
  it('reports the ante\'s events (fee, tx) and none of its reverted messages\' events', async () => {
    const c = TestChain.create({ keys, balance: BALANCE });
    c.block();
    const tx = await c.sign(alice, [sendMsg(alice.address, bob.address, 5n), sendMsg(alice.address, carol.address, 10n * BALANCE)], { fee: FEE });
    const r = c.block([tx]).txResults[0]!;
    expect(`${r.codespace}/${r.code}`).toBe('bank/2');
    // the fee is kept, the 5 uusdc never reached bob
    expect(c.balance(alice.address)).toBe(BALANCE - FEE);
    expect(c.balance(bob.address)).toBe(BALANCE);
    const transfers = eventsOf(r, 'bank.transfer');
    expect(transfers.map((t) => t.reason)).toEqual(['fee']);
    expect(transfers.some((t) => t.recipient === bob.address)).toBe(false);
    expect(eventsOf(r, 'tx').map((t) => t.signer)).toEqual([alice.address]);
  });
});
