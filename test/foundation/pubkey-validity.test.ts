/**
 * A first tx must carry a public key that is a point on secp256k1. The ante
 * handler skips its own parse of the key when the signature cache already
 * holds the tx as verified (both verifiers parse the key), so this checks the
 * other side: a key that does not parse is never cached, and CheckTx and
 * FinalizeBlock both reject it with the registered error, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { addressFromPubKey } from '../../chain/codec/address.js';
import { isValidPubKey } from '../../chain/crypto/secp256k1.js';
import { TEST_CHAIN_ID, TestChain, expectOk } from '../helpers/chain.js';
import { buildTx, msgSendAny, secpPubKeyAny } from '../helpers/rawtx.js';
import { account, hex } from '../helpers/state.js';

/** 0x02 ‖ x for the first x (counting up from 5) with no point on the curve. */
function offCurveKey(): Uint8Array {
  for (let x = 5; ; x++) {
    const k = new Uint8Array(33);
    k[0] = 2;
    k[32] = x;
    if (!isValidPubKey(k)) return k;
  }
}

describe('public keys that are not curve points', () => {
  it('are rejected by CheckTx and FinalizeBlock (invalid_pubkey), and the signer stays without a key', async () => {
    const chain = TestChain.create({ accounts: 2, balance: 10_000_000n });
    const [a, b] = chain.keys as [typeof chain.keys[0], typeof chain.keys[0]];
    const bogus = offCurveKey();
    const bogusAddr = addressFromPubKey(bogus);
    expectOk(chain.block([await chain.send(a!, bogusAddr, 1_000_000n)]).txResults[0]!);
    const accountNumber = BigInt(account(chain.app, bogusAddr)!.account_number);

    // signed by a's private key: the signature can never match, but the key is checked first
    const bad = buildTx({
      messages: [msgSendAny(bogusAddr, b!.address, '5')],
      signers: [{ key: a!, sequence: 0n, pubKey: secpPubKeyAny(bogus) }],
      chainId: TEST_CHAIN_ID,
      accountNumber,
      extension: { chainId: TEST_CHAIN_ID, accountNumber },
    }).bytes;

    const chk = chain.app.checkTx({ tx: bad, type: 'new' });
    expect([chk.codespace, chk.code]).toEqual(['tx', 7]);
    expect(chk.log).toContain('not a valid compressed secp256k1 point');

    const before = hex(chain.app.appHash);
    const twin = TestChain.create({ accounts: 2, balance: 10_000_000n });
    twin.block([await twin.send(twin.keys[0]!, bogusAddr, 1_000_000n)]);
    expect(hex(twin.app.appHash)).toBe(before);

    const r = chain.block([bad]).txResults[0]!;
    expect([r.codespace, r.code]).toEqual(['tx', 7]);
    expect(r.log).toContain('not a valid compressed secp256k1 point');
    twin.block([]);
    expect(hex(chain.app.appHash)).toBe(hex(twin.app.appHash));
    const acc = account(chain.app, bogusAddr)!;
    expect(acc.sequence).toBe('0');
    expect(acc.pub_key ?? null).toBeNull();
  });
});
