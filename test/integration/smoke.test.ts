import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';

describe('smoke', () => {
  it('sends uusdc in a block', async () => {
    const c = TestChain.create({ accounts: 2, balance: 10_000_000n });
    const [a, b] = c.keys;
    c.block();
    const tx = await c.send(a!, b!.address, 1234n);
    const chk = c.app.checkTx({ tx, type: 'new' });
    expect(chk.log).toBe('');
    const r = c.block([tx]);
    expectOk(r.txResults[0]!);
    expect(c.balance(b!.address)).toBe(10_000_000n + 1234n);
    expect(c.balance(a!.address)).toBe(10_000_000n - 1234n - 200n);
  });
});
