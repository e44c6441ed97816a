import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * What a wallet does: run a tx once to learn its gas use, then sign it with exactly that gas limit. The limit
 * is inclusive (a tx that uses exactly its limit succeeds) and a tx one unit short runs out of gas, keeps
 * its fee and sequence, and reports gas_used = gas_wanted (never more). Three twin chains from the same
 * genesis so each run sees the same state; the fee is fixed and every gas limit here is a 3-byte varint, so
 * the txs differ only in the gas limit and have the same size (hence the same size cost).
 */
const keys = testKeys(2, 'gas-limit-boundary');
const [alice, bob] = keys as [TestKey, TestKey];
const BALANCE = 1_000_000_000n;
const FEE = 200n; // ≥ ⌈200,000 · 1000 / 10⁶⌉, the most any gas limit here requires
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function twin(): TestChain {
  const c = TestChain.create({ keys, balance: BALANCE });
  c.block();
  return c;
}

async function sendWithGas(c: TestChain, gas: bigint): Promise<ExecTxResult> {
  return c.block([await c.send(alice, bob.address, 5n, { gas, fee: FEE })]).txResults[0]!;
}

describe('gas limit boundary', () => {
  it('a limit of exactly the gas used succeeds; one less runs out of gas (tx/17), keeps the fee, and reports gas_used = the limit', async () => {
    const probe = await sendWithGas(twin(), 100_000n);
    expect(code(probe)).toBe('/0');
    const used = probe.gasUsed;
    expect(used).toBeGreaterThan(16_384n); // a 3-byte varint like 100,000: same tx size
    expect(used).toBeLessThan(100_000n);

    const exact = await sendWithGas(twin(), used);
    expect(code(exact)).toBe('/0');
    expect(exact.gasUsed).toBe(used);

    const c = twin();
    const short = await sendWithGas(c, used - 1n);
    expect(code(short)).toBe('tx/17');
    expect([short.gasWanted, short.gasUsed]).toEqual([used - 1n, used - 1n]);
    expect([c.balance(alice.address), c.balance(bob.address)]).toEqual([BALANCE - FEE, BALANCE]); // message reverted, fee kept
  });
});
