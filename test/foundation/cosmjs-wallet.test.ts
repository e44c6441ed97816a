/**
 * A trader with a stock cosmjs DirectSecp256k1HdWallet (prefix "perp") and a
 * cosmjs Registry built from our protos can sign for this chain: through our
 * client's signTx, and through plain cosmjs calls with no perpchain code on
 * the signing path except the generated MsgSend type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectSecp256k1HdWallet, Registry, encodePubkey, makeAuthInfoBytes, makeSignDoc, type GeneratedType } from '@cosmjs/proto-signing';
import { encodeSecp256k1Pubkey, makeCosmoshubPath } from '@cosmjs/amino';
import { fromBase64 } from '@cosmjs/encoding';
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { perpchain } from '../../proto/gen/perpchain.js';
import { createRegistry } from '../../client/registry.js';
import { signTx } from '../../client/signing.js';
import { TX_EXTENSION_URL } from '../../chain/tx/decode.js';
import { App } from '../../chain/app.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID } from '../helpers/chain.js';
import { account, balanceOf } from '../helpers/state.js';

// A fixed, public test mnemonic (the BIP-39 "abandon … about" vector): never holds real funds.
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const FUNDS = 5_000_000n;

let wallet: DirectSecp256k1HdWallet;
let trader: string;
let other: string;

beforeAll(async () => {
  wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: 'perp', hdPaths: [makeCosmoshubPath(0), makeCosmoshubPath(1)] /* m/44'/118'/0'/0/i */ });
  const accs = await wallet.getAccounts();
  trader = accs[0]!.address;
  other = accs[1]!.address;
});

function newApp(): { app: App; height: bigint; timeNs: bigint } {
  const app = App.open();
  const appState = { bank: { balances: [{ address: trader, amount: FUNDS.toString() }, { address: other, amount: FUNDS.toString() }] } };
  app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(appState)) });
  app.finalizeBlock({ txs: [], height: 1n, timeNs: GENESIS_TIME_NS + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
  app.commit();
  return { app, height: 1n, timeNs: GENESIS_TIME_NS + 1_000_000_000n };
}

function runBlock(s: { app: App; height: bigint; timeNs: bigint }, txs: Uint8Array[]) {
  s.height += 1n;
  s.timeNs += 1_000_000_000n;
  const r = s.app.finalizeBlock({ txs, height: s.height, timeNs: s.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
  s.app.commit();
  return r;
}

/** Sign with nothing but cosmjs: Registry.encodeTxBody, makeAuthInfoBytes, makeSignDoc, wallet.signDirect, TxRaw.encode. */
async function signPlainCosmjs(registry: Registry, o: { from: string; to: string; amount: string; accountNumber: number; sequence: number }): Promise<Uint8Array> {
  const [acc] = (await wallet.getAccounts()).filter((a) => a.address === o.from);
  const bodyBytes = registry.encodeTxBody({
    messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: o.from, toAddress: o.to, amount: o.amount } }],
    memo: 'signed by a stock cosmjs wallet',
  });
  const pubkey = encodePubkey(encodeSecp256k1Pubkey(acc!.pubkey));
  const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: o.sequence }], [{ denom: 'uusdc', amount: '200' }], 200_000, undefined, undefined);
  const signDoc = makeSignDoc(bodyBytes, authInfoBytes, TEST_CHAIN_ID, o.accountNumber);
  const { signed, signature } = await wallet.signDirect(o.from, signDoc);
  return TxRaw.encode(TxRaw.fromPartial({ bodyBytes: signed.bodyBytes, authInfoBytes: signed.authInfoBytes, signatures: [fromBase64(signature.signature)] })).finish();
}

describe('a stock cosmjs DirectSecp256k1HdWallet signs for perpchain', () => {
  it('derives perp-prefixed addresses', () => {
    expect(trader).toMatch(/^perp1[02-9ac-hj-np-z]{38}$/);
    expect(other).not.toBe(trader);
  });

  it('via our client signTx (createRegistry, with TxExtension): accepted by CheckTx and FinalizeBlock, balances move', async () => {
    const s = newApp();
    const accountNumber = BigInt(account(s.app, trader)!.account_number);
    const bytes = await signTx({
      signer: wallet,
      signerAddress: trader,
      messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: trader, toAddress: other, amount: '12345' } }],
      fee: { amount: 200n, gas: 200_000n },
      chainId: TEST_CHAIN_ID,
      accountNumber,
      sequence: 0n,
      registry: createRegistry(),
    });
    const ext = TxBody.decode(TxRaw.decode(bytes).bodyBytes).nonCriticalExtensionOptions;
    expect(ext.map((x) => x.typeUrl)).toEqual([TX_EXTENSION_URL]);
    const e = perpchain.tx.v1.TxExtension.decode(ext[0]!.value);
    expect([e.chainId, e.accountNumber.toString()]).toEqual([TEST_CHAIN_ID, accountNumber.toString()]);
    const chk = s.app.checkTx({ tx: bytes, type: 'new' });
    expect(chk.code, chk.log).toBe(0);
    expect(chk.sender).toBe(trader);
    const r = runBlock(s, [bytes]);
    expect(r.txResults[0]!.code, r.txResults[0]!.log).toBe(0);
    expect(balanceOf(s.app, trader)).toBe(FUNDS - 12_345n - 200n);
    expect(balanceOf(s.app, other)).toBe(FUNDS + 12_345n);
    expect(account(s.app, trader)!.sequence).toBe('1');
  });

  for (const [label, makeRegistry] of [
    ['a hand-built stock Registry with only perpchain.bank.v1.MsgSend', () => new Registry([['/perpchain.bank.v1.MsgSend', perpchain.bank.v1.MsgSend as unknown as GeneratedType]])],
    ['the Registry from client/registry.ts', createRegistry],
  ] as const) {
    it(`via plain cosmjs calls and ${label}, no TxExtension: accepted, balances move`, async () => {
      const s = newApp();
      const registry = makeRegistry();
      const accountNumber = Number(account(s.app, trader)!.account_number);
      const t1 = await signPlainCosmjs(registry, { from: trader, to: other, amount: '777', accountNumber, sequence: 0 });
      const t2 = await signPlainCosmjs(registry, { from: trader, to: other, amount: '1000', accountNumber, sequence: 1 });
      expect(TxBody.decode(TxRaw.decode(t1).bodyBytes).nonCriticalExtensionOptions).toEqual([]);
      for (const t of [t1, t2]) {
        const chk = s.app.checkTx({ tx: t, type: 'new' });
        expect(chk.code, chk.log).toBe(0);
      }
      const r = runBlock(s, [t1, t2]);
      expect(r.txResults.map((x) => [x.code, x.log])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      expect(balanceOf(s.app, trader)).toBe(FUNDS - 1_777n - 400n);
      expect(balanceOf(s.app, other)).toBe(FUNDS + 1_777n);
      // The public key the wallet sent is now on chain.
      expect(account(s.app, trader)!.pub_key).toBe(Buffer.from((await wallet.getAccounts())[0]!.pubkey).toString('base64'));
    });
  }

  it('a wallet signature for another chain id is refused with a registered code', async () => {
    const s = newApp();
    const bytes = await signTx({
      signer: wallet,
      signerAddress: trader,
      messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: trader, toAddress: other, amount: '1' } }],
      fee: { amount: 200n, gas: 200_000n },
      chainId: 'cosmoshub-4',
      accountNumber: 0n,
      sequence: 0n,
    });
    const chk = s.app.checkTx({ tx: bytes, type: 'new' });
    expect([chk.codespace, chk.code]).toEqual(['tx', 4]);
    const r = runBlock(s, [bytes]);
    expect([r.txResults[0]!.codespace, r.txResults[0]!.code]).toEqual(['tx', 4]);
    expect(balanceOf(s.app, other)).toBe(FUNDS);
  });
});
