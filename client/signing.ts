import { makeAuthInfoBytes, makeSignDoc, encodePubkey, type EncodeObject, type OfflineDirectSigner, type Registry } from '@cosmjs/proto-signing';
import { encodeSecp256k1Pubkey } from '@cosmjs/amino';
import { sha256 } from '@cosmjs/crypto';
import { fromBase64, toHex } from '@cosmjs/encoding';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { Any } from 'cosmjs-types/google/protobuf/any';
import Long from 'long';
import { perpchain } from '../proto/gen/perpchain.js';
import { createRegistry } from './registry.js';

export const DENOM = 'uusdc';

export interface Fee {
  /** uusdc, integer. */
  amount: bigint;
  gas: bigint;
}

export interface SignTxOptions {
  signer: OfflineDirectSigner;
  /** Bech32 address of the signing account (must be one of signer.getAccounts()). */
  signerAddress: string;
  messages: readonly EncodeObject[];
  fee: Fee;
  chainId: string;
  accountNumber: bigint;
  sequence: bigint;
  memo?: string;
  timeoutHeight?: bigint;
  /**
   * Add /perpchain.tx.v1.TxExtension naming chain id and account number so the
   * chain can say precisely which one is wrong (default true).
   */
  extension?: boolean;
  registry?: Registry;
}

/** Required fee for a gas limit at a gas price in micro-uusdc per gas (rounded up, as the chain does). */
export function feeFor(gas: bigint, minGasPriceMicro: bigint): Fee {
  return { gas, amount: (gas * minGasPriceMicro + 999_999n) / 1_000_000n };
}

/** Build and sign a tx (SIGN_MODE_DIRECT); returns the TxRaw bytes to broadcast. */
export async function signTx(o: SignTxOptions): Promise<Uint8Array> {
  const registry = o.registry ?? createRegistry();
  const accounts = await o.signer.getAccounts();
  const account = accounts.find((a) => a.address === o.signerAddress);
  if (!account) throw new Error(`signer does not hold ${o.signerAddress}`);
  const nonCriticalExtensionOptions: Any[] = [];
  if (o.extension !== false) {
    nonCriticalExtensionOptions.push(
      Any.fromPartial({
        typeUrl: '/perpchain.tx.v1.TxExtension',
        value: perpchain.tx.v1.TxExtension.encode({ chainId: o.chainId, accountNumber: Long.fromString(o.accountNumber.toString(), true) }).finish(),
      }),
    );
  }
  const bodyBytes = registry.encodeTxBody({
    messages: [...o.messages],
    memo: o.memo ?? '',
    ...(o.timeoutHeight ? { timeoutHeight: o.timeoutHeight } : {}),
    nonCriticalExtensionOptions,
  });
  const pubkey = encodePubkey(encodeSecp256k1Pubkey(account.pubkey));
  const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: o.sequence }], [{ denom: DENOM, amount: o.fee.amount.toString() }], Number(o.fee.gas), undefined, undefined);
  const signDoc = makeSignDoc(bodyBytes, authInfoBytes, o.chainId, o.accountNumber);
  const { signed, signature } = await o.signer.signDirect(o.signerAddress, signDoc);
  return TxRaw.encode({
    bodyBytes: signed.bodyBytes,
    authInfoBytes: signed.authInfoBytes,
    signatures: [fromBase64(signature.signature)],
  }).finish();
}

/** CometBFT tx hash: upper-case hex sha256 of the TxRaw bytes. */
export async function txHashOf(bytes: Uint8Array): Promise<string> {
  // cosmjs' sha256, not node:crypto: the SDK runs in browsers too (test/e2e/sdk-browser.e2e.test.ts)
  return Promise.resolve(toHex(sha256(bytes)).toUpperCase());
}
