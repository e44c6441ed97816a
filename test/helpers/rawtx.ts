/**
 * Low-level transaction builder for tests that need to craft invalid or
 * unusual transactions byte by byte (wrong fields, extra signers, altered
 * signatures, trailing bytes). It uses the cosmjs-types envelope directly,
 * so what it produces is exactly what a cosmos client could send.
 */
import { AuthInfo, SignDoc, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { PubKey as Secp256k1PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys';
import { Any } from 'cosmjs-types/google/protobuf/any';
import Long from 'long';
import { perpchain } from '../../proto/gen/perpchain.js';
import type { TestKey } from './keys.js';

export const MSG_SEND = '/perpchain.bank.v1.MsgSend';
export const MSG_DEPOSIT = '/perpchain.subaccounts.v1.MsgDeposit';
export const SECP_PUBKEY_URL = '/cosmos.crypto.secp256k1.PubKey';

/** secp256k1 group order. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export function msgSendAny(from: string, to: string, amount: string): Any {
  return Any.fromPartial({ typeUrl: MSG_SEND, value: perpchain.bank.v1.MsgSend.encode({ fromAddress: from, toAddress: to, amount }).finish() });
}

export function msgDepositAny(owner: string, subaccountNumber: number, amount: string): Any {
  return Any.fromPartial({ typeUrl: MSG_DEPOSIT, value: perpchain.subaccounts.v1.MsgDeposit.encode({ owner, subaccountNumber, amount }).finish() });
}

export function secpPubKeyAny(pub: Uint8Array): Any {
  return Any.fromPartial({ typeUrl: SECP_PUBKEY_URL, value: Secp256k1PubKey.encode({ key: pub }).finish() });
}

export function txExtensionAny(chainId: string, accountNumber: bigint): Any {
  return Any.fromPartial({
    typeUrl: '/perpchain.tx.v1.TxExtension',
    value: perpchain.tx.v1.TxExtension.encode({ chainId, accountNumber: Long.fromString(accountNumber.toString(), true) }).finish(),
  });
}

export interface SignerSpec {
  key: TestKey;
  sequence: bigint;
  /** Public key Any in the SignerInfo; default the key's secp256k1 key; null = omit. */
  pubKey?: Any | null;
}

export interface RawTxOptions {
  messages: Any[];
  /** The signer(s). More than one gives a multi-signer tx (which perpchain refuses). */
  signers: SignerSpec[];
  /** Chain id and account number that go into the SignDoc. */
  chainId: string;
  accountNumber: bigint;
  gas?: bigint;
  /** Fee coins; default [{uusdc, ceil(gas · 1000 / 10^6)}]. */
  fee?: Array<{ denom: string; amount: string }>;
  memo?: string;
  timeoutHeight?: bigint;
  /** Add /perpchain.tx.v1.TxExtension with these values (default: none). */
  extension?: { chainId: string; accountNumber: bigint };
  extraNonCritical?: Any[];
  critical?: Any[];
}

export interface BuiltTx {
  bytes: Uint8Array;
  raw: TxRaw;
  signDocBytes: Uint8Array;
}

/** Build and sign (SIGN_MODE_DIRECT, every signer signs the same SignDoc) a TxRaw. */
export function buildTx(o: RawTxOptions): BuiltTx {
  const gas = o.gas ?? 200_000n;
  const fee = o.fee ?? [{ denom: 'uusdc', amount: ((gas * 1000n + 999_999n) / 1_000_000n).toString() }];
  const nonCritical = [...(o.extension ? [txExtensionAny(o.extension.chainId, o.extension.accountNumber)] : []), ...(o.extraNonCritical ?? [])];
  const bodyBytes = TxBody.encode(
    TxBody.fromPartial({
      messages: o.messages,
      memo: o.memo ?? '',
      timeoutHeight: o.timeoutHeight ?? 0n,
      extensionOptions: o.critical ?? [],
      nonCriticalExtensionOptions: nonCritical,
    }),
  ).finish();
  const authInfoBytes = AuthInfo.encode(
    AuthInfo.fromPartial({
      signerInfos: o.signers.map((s) => ({
        publicKey: s.pubKey === null ? undefined : (s.pubKey ?? secpPubKeyAny(s.key.pub)),
        modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } },
        sequence: s.sequence,
      })),
      fee: { amount: fee, gasLimit: gas },
    }),
  ).finish();
  const signDocBytes = SignDoc.encode({ bodyBytes, authInfoBytes, chainId: o.chainId, accountNumber: o.accountNumber }).finish();
  const signatures = o.signers.map((s) => s.key.signBytes(signDocBytes));
  const raw = TxRaw.fromPartial({ bodyBytes, authInfoBytes, signatures });
  return { bytes: TxRaw.encode(raw).finish(), raw, signDocBytes };
}

/** The same TxRaw with its (first) signature replaced. */
export function withSignature(bytes: Uint8Array, sig: Uint8Array, index = 0): Uint8Array {
  const raw = TxRaw.decode(bytes);
  const signatures = [...raw.signatures];
  signatures[index] = sig;
  return TxRaw.encode({ ...raw, signatures }).finish();
}

export function signatureOf(bytes: Uint8Array, index = 0): Uint8Array {
  const s = TxRaw.decode(bytes).signatures[index];
  if (!s) throw new Error(`tx has no signature ${index}`);
  return s;
}

/** The malleable twin of a 64-byte r‖s signature: (r, n − s), valid but high-S when s was low. */
export function highS(sig: Uint8Array): Uint8Array {
  if (sig.length !== 64) throw new Error('expected a 64-byte signature');
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  const out = new Uint8Array(64);
  out.set(sig.subarray(0, 32), 0);
  out.set(Buffer.from((SECP256K1_N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

/**
 * A TxRaw with the same three fields written in a different order
 * (signatures, auth info, body): decodes to the same message, but is not
 * the canonical encoding, so its hash would differ from the canonical one.
 */
export function reorderedTxRaw(bytes: Uint8Array): Uint8Array {
  const raw = TxRaw.decode(bytes);
  const parts = [
    TxRaw.encode({ bodyBytes: new Uint8Array(), authInfoBytes: new Uint8Array(), signatures: raw.signatures }).finish(),
    TxRaw.encode({ bodyBytes: new Uint8Array(), authInfoBytes: raw.authInfoBytes, signatures: [] }).finish(),
    TxRaw.encode({ bodyBytes: raw.bodyBytes, authInfoBytes: new Uint8Array(), signatures: [] }).finish(),
  ];
  return Buffer.concat(parts);
}
