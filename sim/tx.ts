/**
 * Keys and transactions for the simulator's agents: deterministic secp256k1
 * keys derived from the run's seed, and signed cosmjs-compatible TxRaw bytes
 * (SIGN_MODE_DIRECT, native libsecp256k1, low-S) built without the cosmjs
 * Registry so thousands of agents can sign every block. The bytes are exactly
 * what a stock cosmjs client would send (same envelope, same field order), so
 * the App runs its full ante handler on them: decode, signature, account
 * number and sequence, fee.
 */
import { createHash, hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { addressFromPubKey } from '../chain/codec/address.js';
import { signBytes } from '../chain/tx/decode.js';
import { anyForEncoding } from '../chain/tx/tx-msg-data.js';
import { cosmos } from '../proto/gen/cosmos.js';
import Long from 'long';
import { perpchain } from '../proto/gen/perpchain.js';

const U = (v: bigint): Long => Long.fromString(v.toString(), true);

const require = createRequire(import.meta.url);
const secp = require('secp256k1') as {
  publicKeyCreate(priv: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, priv: Uint8Array): { signature: Uint8Array };
};

/** A simulator key: private key = sha256("perpchain-sim:<seed>:<label>"). */
export class SimKey {
  readonly priv: Uint8Array;
  readonly pub: Uint8Array;
  readonly address: string;
  /** The signer's public key as the Any a SignerInfo carries. */
  readonly pubKeyAny: Any;

  constructor(seed: number, readonly label: string) {
    this.priv = createHash('sha256').update(`perpchain-sim:${seed}:${label}`).digest();
    this.pub = secp.publicKeyCreate(this.priv, true);
    this.address = addressFromPubKey(this.pub);
    this.pubKeyAny = Any.fromPartial({ typeUrl: '/cosmos.crypto.secp256k1.PubKey', value: PubKey.encode({ key: this.pub }).finish() });
  }

  /** 64-byte r‖s over sha256(bytes); libsecp256k1 always gives low-S. */
  sign(bytes: Uint8Array): Uint8Array {
    return secp.ecdsaSign(hash('sha256', bytes, 'buffer'), this.priv).signature;
  }
}

/** Gas price of the default auth params: 1,000 micro-uusdc per gas. */
export const MIN_GAS_PRICE_MICRO = 1000n;

export interface SignOptions {
  chainId: string;
  accountNumber: bigint;
  sequence: bigint;
  gas: bigint;
}

/**
 * Build and sign a TxRaw carrying `msgs` (already-encoded Anys). Encoded with
 * the chain's protobufjs copy of the envelope (cosmjs-types' writer allocates
 * a fresh 8 KiB slab per message it encodes) into the bytes cosmjs-types
 * writes: proto3 defaults (an empty Any value, a zero sequence) are left
 * unset, as that encoder omits them (test/sim/sim-tx.test.ts compares both).
 */
export function signTx(key: SimKey, msgs: Any[], o: SignOptions): Uint8Array {
  const pb = cosmos.tx.v1beta1;
  const bodyBytes = pb.TxBody.encode({ messages: msgs.map(anyForEncoding) }).finish();
  const fee = (o.gas * MIN_GAS_PRICE_MICRO + 999_999n) / 1_000_000n;
  const signer: cosmos.tx.v1beta1.ISignerInfo = { publicKey: anyForEncoding(key.pubKeyAny), modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } } };
  if (o.sequence !== 0n) signer.sequence = U(o.sequence);
  const feeMsg: cosmos.tx.v1beta1.IFee = { amount: [{ denom: 'uusdc', amount: fee.toString() }] };
  if (o.gas !== 0n) feeMsg.gasLimit = U(o.gas);
  const authInfoBytes = pb.AuthInfo.encode({ signerInfos: [signer], fee: feeMsg }).finish();
  const signature = key.sign(signBytes({ bodyBytes, authInfoBytes, signatures: [] }, o.chainId, o.accountNumber));
  return pb.TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [signature] }).finish();
}

/**
 * Gas limit for a tx of n messages that may make up to `fills` fills, as a
 * client that simulates its tx first would set it. Measured: a post-only
 * placement or a cancel ≈ 30k, each fill ≈ 45k, the ante ≈ 15k; the limit
 * leaves room (unused gas is not refunded, but at the default gas price 1M
 * gas costs 0.001 USDC). A tx that still runs out of gas is reverted but pays.
 */
export function gasFor(n: number, fills = 0): bigint {
  return 300_000n + 60_000n * BigInt(n) + 75_000n * BigInt(fills);
}

// ------------------------------------------------------------------ messages

const C = perpchain.clob.v1;
export type SideName = 'buy' | 'sell';
export type TifName = 'gtc' | 'ioc' | 'fok' | 'post_only';
const TIF: Record<TifName, number> = { gtc: 0, ioc: 1, fok: 2, post_only: 3 };

export interface PlaceSpec {
  owner: string;
  number?: number;
  marketId: number;
  clientId: number;
  side: SideName;
  /** 'market' orders take price 0 (the chain bounds them by oracle ± slippage) unless a bound is given. */
  type?: 'limit' | 'market';
  tif?: TifName;
  price: bigint;
  quantity: bigint;
  reduceOnly?: boolean;
  goodTilBlock?: bigint;
}

export function placeAny(o: PlaceSpec): Any {
  const value = C.MsgPlaceOrder.encode({
    owner: o.owner,
    subaccountNumber: o.number ?? 0,
    marketId: o.marketId,
    clientId: o.clientId,
    side: o.side === 'buy' ? C.Side.SIDE_BUY : C.Side.SIDE_SELL,
    type: o.type === 'market' ? C.OrderType.ORDER_TYPE_MARKET : C.OrderType.ORDER_TYPE_LIMIT,
    timeInForce: TIF[o.tif ?? 'gtc'],
    price: U(o.price),
    quantity: U(o.quantity),
    reduceOnly: o.reduceOnly ?? false,
    goodTilBlock: U(o.goodTilBlock ?? 0n),
    goodTilTime: Long.ZERO,
    stp: C.StpMode.STP_MODE_CANCEL_RESTING,
    triggerPrice: Long.UZERO,
  }).finish();
  return { typeUrl: '/perpchain.clob.v1.MsgPlaceOrder', value };
}

export function cancelAny(owner: string, orderId: bigint, number = 0): Any {
  return {
    typeUrl: '/perpchain.clob.v1.MsgCancelOrder',
    value: C.MsgCancelOrder.encode({ owner, subaccountNumber: number, orderId: U(orderId), clientId: 0, byClientId: false }).finish(),
  };
}

export function depositAny(owner: string, amount: bigint, number = 0): Any {
  return { typeUrl: '/perpchain.subaccounts.v1.MsgDeposit', value: perpchain.subaccounts.v1.MsgDeposit.encode({ owner, subaccountNumber: number, amount: amount.toString() }).finish() };
}

export function withdrawAny(owner: string, amount: bigint, number = 0): Any {
  return {
    typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw',
    value: perpchain.subaccounts.v1.MsgWithdraw.encode({ owner, subaccountNumber: number, amount: amount.toString(), recipient: '' }).finish(),
  };
}

export function updatePricesAny(feeder: string, prices: ReadonlyArray<readonly [number, bigint]>): Any {
  return {
    typeUrl: '/perpchain.prices.v1.MsgUpdatePrices',
    value: perpchain.prices.v1.MsgUpdatePrices.encode({ feeder, prices: prices.map(([marketId, price]) => ({ marketId, price: U(price) })) }).finish(),
  };
}

/** Decode the MsgPlaceOrderResponses of a tx result's data. */
export function placeResponses(data: Uint8Array): Array<{ orderId: bigint; status: string; filled: bigint; remaining: bigint }> {
  if (data.length === 0) return [];
  const out: Array<{ orderId: bigint; status: string; filled: bigint; remaining: bigint }> = [];
  for (const a of decodeMsgResponses(data)) {
    if (a.typeUrl !== '/perpchain.clob.v1.MsgPlaceOrderResponse') continue;
    const m = C.MsgPlaceOrderResponse.decode(a.value);
    out.push({ orderId: BigInt(m.orderId.toString()), status: m.status, filled: BigInt(m.filled.toString()), remaining: BigInt(m.remaining.toString()) });
  }
  return out;
}

import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
function decodeMsgResponses(data: Uint8Array): Any[] {
  return TxMsgData.decode(data).msgResponses;
}
