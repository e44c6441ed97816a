/**
 * CheckTx and the proposer count a transfer's arrival up to what its source holds: a tx [transfer $500 of
 * real collateral into subaccount 1, withdraw it, send $550] is admitted and included, as the block runs
 * it; a transfer of more than the source holds vouches only for what is there, and one out of an empty
 * subaccount for nothing (the block would fail the tx). Alice: $1,000 in the bank, $900 in subaccount 0.
 */
import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { depositMsg, sendMsg, transferMsg, withdrawMsg } from '../helpers/orders.js';

const keys = testKeys(2, 'transfer-backs-withdrawal');
const [alice, bob] = keys as [TestKey, TestKey];
const USD = 1_000_000n;

async function chain(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 1_000n * USD });
  c.block();
  expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 900n * USD)])]).txResults[0]!);
  return c;
}

/** [transfer `moved` sub0→sub1, withdraw `moved` from sub1, send `sent` to bob], signed by alice. */
const tx = (c: TestChain, moved: bigint, sent: bigint, from = 0) =>
  c.sign(alice, [transferMsg(alice.address, alice.address, moved * USD, from, 1), withdrawMsg(alice.address, moved * USD, { number: 1 }), sendMsg(alice.address, bob.address, sent * USD)]);

describe('a transfer earlier in the tx backs a withdrawal after it', () => {
  it('admits, proposes and runs [transfer $500, withdraw $500, send $550] with $100 in the bank', async () => {
    const c = await chain();
    const t = await tx(c, 500n, 550n);
    const ck = c.app.checkTx({ tx: t, type: 'new' });
    expect(`${ck.codespace}/${ck.code}`, ck.log).toBe('/0');
    const proposal = c.app.prepareProposal({ txs: [t], maxTxBytes: 1_000_000n, localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1_000_000_000n, proposerAddress: new Uint8Array(20) });
    expect(proposal.txs.length).toBe(1);
    const before = BigInt(c.queryJson(`bank/balance/${bob.address}`).amount);
    expectOk(c.block([t]).txResults[0]!);
    expect(BigInt(c.queryJson(`bank/balance/${bob.address}`).amount) - before).toBe(550n * USD);
  });

  it('counts no more than the source holds: from an empty subaccount, nothing', async () => {
    const c = await chain();
    // subaccount 2 is empty: its transfer vouches for nothing, so the send of $550 is past the $100 balance
    const empty = c.app.checkTx({ tx: await tx(c, 500n, 550n, 2), type: 'new' });
    expect(`${empty.codespace}/${empty.code}`).toBe('bank/2');
  });

  it('counts no more than the source holds after the pending withdrawals of it', async () => {
    // a pending withdrawal of $800 leaves $100 in subaccount 0 for the transfer to carry:
    // ~$100 bank + $800 withdrawn + $100 carried ≈ $1,000, less the fees: a $950 send fits, a $1,050 one does not
    for (const [sent, code] of [[950n, '/0'], [1_050n, 'bank/2']] as const) {
      const c = await chain();
      const w = c.app.checkTx({ tx: await c.sign(alice, [withdrawMsg(alice.address, 800n * USD)]), type: 'new' });
      expect(w.code).toBe(0);
      const r = c.app.checkTx({ tx: await tx(c, 500n, sent), type: 'new' });
      expect(`${r.codespace}/${r.code}`, `send $${sent}: ${r.log}`).toBe(code);
    }
  });
});
