import { describe, expect, it } from 'vitest';
import { AuthInfo, SignDoc, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { buildTx, msgSendAny, type RawTxOptions } from '../helpers/rawtx.js';
import { account } from '../helpers/state.js';
import { MSG_INJECT_PRICES_URL } from '../../modules/prices/msgs.js';
import type { CheckTxResult, ExecTxResult } from '../../chain/types.js';

/**
 * Envelope rules of chain/tx/decode.ts that the existing bad-input cases left open (each could be deleted
 * or widened without a test failing): exactly one signer info AND exactly one signature (not just "as many
 * signatures as signer infos"), SIGN_MODE_DIRECT only, unknown NON-critical extension options ignored (not
 * read as a TxExtension), and a proposer-injected message never travelling with a user's message or with
 * signatures. Txs are built byte by byte with cosmjs-types and properly signed, so the rule under test is
 * the only thing wrong with them.
 */
const keys = testKeys(2, 'tx-signer-rules');
const [alice, bob] = keys as [TestKey, TestKey];
const BALANCE = 1_000_000_000n;
const code = (r: CheckTxResult | ExecTxResult) => `${r.codespace}/${r.code}`;

function chain(): TestChain {
  const c = TestChain.create({ keys, balance: BALANCE });
  c.block(); // genesis committed: alice is account 0
  return c;
}

const sendOpts = (): RawTxOptions => ({
  messages: [msgSendAny(alice.address, bob.address, '5')],
  signers: [{ key: alice, sequence: 0n }],
  chainId: TEST_CHAIN_ID,
  accountNumber: 0n,
  extension: { chainId: TEST_CHAIN_ID, accountNumber: 0n },
});

/**
 * A valid alice → bob send whose AuthInfo is edited by `edit`, then signed by alice over the edited bytes
 * (so the signature is valid for what the tx says), with `sigs` copies of that signature.
 */
function edited(edit: (a: AuthInfo) => AuthInfo, sigs = 1): Uint8Array {
  const { raw } = buildTx(sendOpts());
  const authInfoBytes = AuthInfo.encode(edit(AuthInfo.decode(raw.authInfoBytes))).finish();
  const doc = SignDoc.encode({ bodyBytes: raw.bodyBytes, authInfoBytes, chainId: TEST_CHAIN_ID, accountNumber: 0n }).finish();
  const sig = alice.signBytes(doc);
  return TxRaw.encode({ bodyBytes: raw.bodyBytes, authInfoBytes, signatures: Array.from({ length: sigs }, () => sig) }).finish();
}

/** CheckTx, then the block: both must give `expected`, and nothing of alice's may change. */
function refused(c: TestChain, tx: Uint8Array, expected: string): void {
  expect(code(c.app.checkTx({ tx, type: 'new' })), 'CheckTx').toBe(expected);
  expect(code(c.block([tx]).txResults[0]!), 'FinalizeBlock').toBe(expected);
  expect(account(c.app, alice.address)!.sequence).toBe('0');
  expect([c.balance(alice.address), c.balance(bob.address)]).toEqual([BALANCE, BALANCE]);
}

describe('one signer, one signature, direct mode', () => {
  it('control: the unedited tx is accepted (so each refusal below is the edit\'s doing)', () => {
    const c = chain();
    const tx = edited((a) => a);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('/0');
    expect(code(c.block([tx]).txResults[0]!)).toBe('/0');
  });

  it('two signatures for one signer info are refused (tx/5): the second one would be unverified malleable bytes', () => {
    refused(chain(), edited((a) => a, 2), 'tx/5');
  });

  it('two signer infos with one signature are refused (tx/5)', () => {
    refused(chain(), edited((a) => ({ ...a, signerInfos: [a.signerInfos[0]!, a.signerInfos[0]!] })), 'tx/5');
  });

  it('a signer info in another sign mode (legacy amino JSON) is refused (tx/5), although the signature is over the direct sign doc', () => {
    const amino = edited((a) => ({ ...a, signerInfos: [{ ...a.signerInfos[0]!, modeInfo: { single: { mode: SignMode.SIGN_MODE_LEGACY_AMINO_JSON } } }] }));
    refused(chain(), amino, 'tx/5');
  });
});

describe('extension options', () => {
  it('an unknown non-critical extension option is ignored, even after the TxExtension (where it would override it), whatever its bytes', () => {
    // Were it read as a TxExtension, its (empty) bytes would name chain id "" and account 0: a wrong chain id (tx/4).
    const c = chain();
    const unknown = Any.fromPartial({ typeUrl: '/some.wallet.Hint', value: Uint8Array.from([0x0a, 0x03, 0x61, 0x62, 0x63]) });
    const tx = buildTx({ ...sendOpts(), extraNonCritical: [unknown] }).bytes;
    expect(TxBody.decode(TxRaw.decode(tx).bodyBytes).nonCriticalExtensionOptions.map((o) => o.typeUrl)).toEqual(['/perpchain.tx.v1.TxExtension', '/some.wallet.Hint']);
    expect(code(c.app.checkTx({ tx, type: 'new' }))).toBe('/0');
    expect(code(c.block([tx]).txResults[0]!)).toBe('/0');
    expect(c.balance(bob.address)).toBe(BALANCE + 5n);
  });
});

describe('proposer-injected messages', () => {
  /** An unsigned tx of the given messages (what a proposer injects: no signer info, no fee, no signature). */
  function unsigned(messages: Any[], signatures: Uint8Array[] = []): Uint8Array {
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages })).finish();
    return TxRaw.encode({ bodyBytes, authInfoBytes: new Uint8Array(), signatures }).finish();
  }
  const inject = Any.fromPartial({ typeUrl: MSG_INJECT_PRICES_URL, value: new Uint8Array() });

  it('cannot carry a user message: an unsigned tx 0 of [inject prices, alice → bob] is refused (tx/5) and moves nothing', () => {
    // Accepting it would run alice's MsgSend with no signature at all.
    const c = chain();
    const r = c.block([unsigned([inject, msgSendAny(alice.address, bob.address, '5')])]).txResults[0]!;
    expect(code(r)).toBe('tx/5');
    expect([c.balance(alice.address), c.balance(bob.address)]).toEqual([BALANCE, BALANCE]);
  });

  it('carries no signatures: the same injected message with a signature attached is refused (tx/5)', () => {
    const c = chain();
    const control = c.block([unsigned([inject])]).txResults[0]!;
    expect(code(control)).toBe('/0');
    const r = c.block([unsigned([inject], [new Uint8Array(64)])]).txResults[0]!;
    expect(code(r)).toBe('tx/5');
  });
});
