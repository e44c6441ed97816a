import { describe, expect, it } from 'vitest';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { buildTx, msgSendAny } from '../helpers/rawtx.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Ante-handler rules a mutation review could change without a test failing: the exact block at which a
 * timeout height expires, and the gas charged for the signature (the same whether CheckTx already verified
 * and cached the signature or not, and exactly sig_verify_cost_secp256k1). Raw txs from test/helpers/rawtx.ts
 * (the TestChain signer has no timeout height), delivered in blocks.
 */
const keys = testKeys(2, 'ante-boundaries');
const [alice, bob] = keys as [TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function chain(sigVerifyCost?: number): TestChain {
  const c = TestChain.create({
    keys,
    balance: 10_000_000_000n,
    appState: sigVerifyCost === undefined ? {} : { auth: { params: { sig_verify_cost_secp256k1: sigVerifyCost } } },
  });
  c.block(); // height 1: genesis committed, accounts queryable
  return c;
}

/** alice → bob, 1 uusdc, at alice's next sequence (account number 0: the first genesis account). */
function send(c: TestChain, o: { timeoutHeight?: bigint } = {}): Uint8Array {
  return buildTx({
    messages: [msgSendAny(alice.address, bob.address, '1')],
    signers: [{ key: alice, sequence: c.nextSequence(alice.address) }],
    chainId: TEST_CHAIN_ID,
    accountNumber: c.accountNumber(alice.address),
    extension: { chainId: TEST_CHAIN_ID, accountNumber: c.accountNumber(alice.address) },
    ...(o.timeoutHeight !== undefined ? { timeoutHeight: o.timeoutHeight } : {}),
  }).bytes;
}

describe('timeout height', () => {
  it('a tx is valid in the block at its timeout height and refused (tx/22) in the block after it', async () => {
    const c = chain();
    c.resyncSequences();
    const next = c.app.height + 1n; // the height of the block the next c.block() builds
    // timeout_height = the including block's height: still valid (the timeout is the last height it may be in)
    const atBoundary = c.block([send(c, { timeoutHeight: next })]).txResults[0]!;
    expect(code(atBoundary)).toBe('/0');
    c.setSequence(alice.address, 1n);
    // timeout_height one below the including block: expired
    const expired = c.block([send(c, { timeoutHeight: c.app.height })]).txResults[0]!;
    expect(code(expired)).toBe('tx/22');
    expect(c.balance(bob.address)).toBe(10_000_000_001n); // only the first send moved money
  });
});

describe('signature gas', () => {
  it('charges exactly sig_verify_cost_secp256k1 per signature: raising it by 2,000 raises gas_used by 2,000', async () => {
    const cheap = chain(1_000);
    const dear = chain(3_000);
    // same key, same sign doc, deterministic (RFC 6979) signatures: identical bytes on both chains
    const [a, b] = [send(cheap), send(dear)];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const ra = cheap.block([a]).txResults[0]!;
    const rb = dear.block([b]).txResults[0]!;
    expect([code(ra), code(rb)]).toEqual(['/0', '/0']);
    expect(rb.gasUsed - ra.gasUsed).toBe(2_000n);
  });

  it('charges the same gas whether CheckTx already verified (and cached) the signature or not', async () => {
    // Every node must charge the same: a validator that saw the tx in its mempool has it cached, one that
    // did not verifies it in the block. A different gas_used would fork the app hash (it is in the results).
    const seen = chain();
    const unseen = chain();
    const tx = send(seen);
    expect(Buffer.from(tx).equals(Buffer.from(send(unseen)))).toBe(true);
    expect(code(seen.app.checkTx({ tx, type: 'new' }))).toBe('/0'); // verifies and caches the signature
    const hit = seen.block([tx]).txResults[0]!;
    const miss = unseen.block([tx]).txResults[0]!;
    expect([code(hit), code(miss)]).toEqual(['/0', '/0']);
    expect(hit.gasUsed).toBe(miss.gasUsed);
    expect(Buffer.from(seen.app.appHash).equals(Buffer.from(unseen.app.appHash))).toBe(true);
  });
});
