import { describe, expect, it } from 'vitest';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { buildTx, msgSendAny, type RawTxOptions } from '../helpers/rawtx.js';
import type { CheckTxResult, ExecTxResult } from '../../chain/types.js';

/**
 * The inclusive limits of the ante handler, at their boundary (bad-inputs.test.ts only tests far past
 * them): a memo of exactly max_memo_characters (256) and a tx of exactly max_tx_bytes (65,536) are
 * accepted, one more is refused (tx/21, tx/2). And the size cost is charged on the whole tx (10 gas per byte
 * of the TxRaw, auth info and signatures included), not just on the body.
 */
const keys = testKeys(2, 'tx-limits');
const [alice, bob] = keys as [TestKey, TestKey];
const MAX_TX_BYTES = 65_536;
const code = (r: CheckTxResult | ExecTxResult) => `${r.codespace}/${r.code}`;

function chain(): TestChain {
  const c = TestChain.create({ keys, balance: 1_000_000_000n });
  c.block();
  return c;
}

const opts = (o: Partial<RawTxOptions> = {}): RawTxOptions => ({
  messages: [msgSendAny(alice.address, bob.address, '5')],
  signers: [{ key: alice, sequence: 0n }],
  chainId: TEST_CHAIN_ID,
  accountNumber: 0n,
  extension: { chainId: TEST_CHAIN_ID, accountNumber: 0n },
  gas: 1_000_000n,
  ...o,
});

/** A valid send of exactly `size` bytes, padded with an unknown non-critical extension option (ignored by the chain). */
function txOfSize(size: number): Uint8Array {
  let pad = 0;
  for (let i = 0; i < 5; i++) {
    const bytes = buildTx(opts({ extraNonCritical: [Any.fromPartial({ typeUrl: '/pad', value: new Uint8Array(pad) })] })).bytes;
    if (bytes.length === size) return bytes;
    pad += size - bytes.length;
  }
  throw new Error(`could not build a tx of ${size} bytes`);
}

describe('memo length', () => {
  it('256 bytes are accepted, 257 refused (tx/21)', () => {
    const c = chain();
    expect(code(c.app.checkTx({ tx: buildTx(opts({ memo: 'm'.repeat(257) })).bytes, type: 'new' }))).toBe('tx/21');
    expect(code(c.block([buildTx(opts({ memo: 'm'.repeat(256) })).bytes]).txResults[0]!)).toBe('/0');
  });

  it('the limit counts the memo\'s UTF-8 bytes, as the Cosmos SDK does (not UTF-16 units, nor characters)', () => {
    // 64 emoji are 256 bytes (and 128 UTF-16 units); 129 'é' are 129 characters but 258 bytes
    const c = chain();
    const r = c.app.checkTx({ tx: buildTx(opts({ memo: 'é'.repeat(129) })).bytes, type: 'new' });
    expect(code(r)).toBe('tx/21');
    expect(r.log).toContain('258 bytes (UTF-8), limit 256');
    expect(code(c.app.checkTx({ tx: buildTx(opts({ memo: '😀'.repeat(64) + 'm' })).bytes, type: 'new' }))).toBe('tx/21');
    expect(code(c.block([buildTx(opts({ memo: '😀'.repeat(64) })).bytes]).txResults[0]!)).toBe('/0');
  });
});

describe('tx size', () => {
  it('a tx of exactly max_tx_bytes is accepted, one byte more is refused (tx/2), in CheckTx and in the block', () => {
    const c = chain();
    const over = txOfSize(MAX_TX_BYTES + 1);
    expect(code(c.app.checkTx({ tx: over, type: 'new' }))).toBe('tx/2');
    expect(code(c.block([over]).txResults[0]!)).toBe('tx/2');
    const exact = txOfSize(MAX_TX_BYTES);
    expect(code(c.app.checkTx({ tx: exact, type: 'new' }))).toBe('/0');
    expect(code(c.block([exact]).txResults[0]!)).toBe('/0');
  });

  it('the size cost counts every byte of the TxRaw, auth info included: a second tx that omits the (registered) public key costs 10 gas less per byte saved', () => {
    // Same body, same state, same effects; only the auth info is shorter (the signer info carries no key).
    const a = chain();
    const b = chain();
    const first = buildTx(opts()).bytes;
    expect(code(a.block([first]).txResults[0]!)).toBe('/0');
    expect(code(b.block([first]).txResults[0]!)).toBe('/0');
    const withKey = buildTx(opts({ signers: [{ key: alice, sequence: 1n }] })).bytes;
    const withoutKey = buildTx(opts({ signers: [{ key: alice, sequence: 1n, pubKey: null }] })).bytes;
    const saved = withKey.length - withoutKey.length;
    expect(saved).toBeGreaterThan(30); // the 33-byte key and its Any wrapper
    const ra = a.block([withKey]).txResults[0]!;
    const rb = b.block([withoutKey]).txResults[0]!;
    expect([code(ra), code(rb)]).toEqual(['/0', '/0']);
    expect(ra.gasUsed - rb.gasUsed).toBe(10n * BigInt(saved));
  });
});
