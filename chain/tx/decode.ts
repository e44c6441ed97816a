import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { hash } from 'node:crypto';
import { cosmos } from '../../proto/gen/cosmos.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import {
  ErrInvalidSigners,
  ErrTxDecode,
  ErrUnknownMsgType,
  ErrUnknownPubKeyType,
  ErrNoMsgs,
  ErrUnsupportedExtension,
} from '../errors/tx.js';
import type { MsgDef } from '../module.js';
import { toBigInt } from '../codec/amount.js';
import { addressProblem } from '../codec/address.js';

// The envelope is decoded with protobufjs code generated from proto/cosmos (wire-identical to the
// SDK's and cosmjs-types' messages, about twice as fast to decode as cosmjs-types').
const pb = cosmos.tx.v1beta1;

// What the generated decoders return. Their declared types make nested and repeated messages
// optional (I-interfaces), but decode() always yields instances whose absent fields read as the
// proto3 defaults from the prototype; these views say so once, here, instead of at every use.
interface AnyMsg {
  typeUrl: string;
  value: Uint8Array;
}
interface TxBody {
  messages: AnyMsg[];
  memo: string;
  timeoutHeight: Long;
  extensionOptions: AnyMsg[];
  nonCriticalExtensionOptions: AnyMsg[];
}
interface AuthInfo {
  signerInfos: Array<{ publicKey: AnyMsg | null; modeInfo: { single: { mode: number } | null } | null; sequence: Long }>;
  fee: { amount: Array<{ denom: string; amount: string }>; gasLimit: Long } | null;
}
type Long = { high: number; low: number; unsigned: boolean };

/** The three fields of a cosmos TxRaw (what SIGN_MODE_DIRECT signs is built from the first two). */
export interface TxRaw {
  bodyBytes: Uint8Array;
  authInfoBytes: Uint8Array;
  signatures: Uint8Array[];
}

export const SECP256K1_PUBKEY_URL = '/cosmos.crypto.secp256k1.PubKey';
export const TX_EXTENSION_URL = '/perpchain.tx.v1.TxExtension';

export interface DecodedMsg {
  typeUrl: string;
  def: MsgDef;
  value: unknown;
}

/** A transaction after decoding and the structural checks that need no state. */
export interface DecodedTx {
  /** sha256 of the raw bytes, upper-case hex (CometBFT's tx hash). */
  hash: string;
  raw: TxRaw;
  body: TxBody;
  authInfo: AuthInfo;
  msgs: DecodedMsg[];
  signer: string;
  /** Public key carried in the tx (33 bytes), if any. */
  pubKey: Uint8Array | undefined;
  signature: Uint8Array;
  sequence: bigint;
  gasLimit: bigint;
  /** Fee coins as given: [denom, amount string]. */
  fee: Array<{ denom: string; amount: string }>;
  memo: string;
  timeoutHeight: bigint;
  /** From the optional /perpchain.tx.v1.TxExtension. */
  extension: { chainId: string; accountNumber: bigint } | undefined;
  size: number;
}

export function txHash(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex').toUpperCase();
}

/**
 * The SIGN_MODE_DIRECT bytes a signer signs: cosmos SignDoc{body_bytes,
 * auth_info_bytes, chain_id, account_number}, encoded by hand (one buffer, no
 * writer pool per call: this runs for every signature check); byte-identical
 * to cosmjs-types' SignDoc.encode (tested).
 */
export function signBytes(raw: TxRaw, chainId: string, accountNumber: bigint): Uint8Array {
  const chain = Buffer.from(chainId, 'utf8');
  const parts: Array<[number, Uint8Array]> = [];
  if (raw.bodyBytes.length) parts.push([0x0a, raw.bodyBytes]);
  if (raw.authInfoBytes.length) parts.push([0x12, raw.authInfoBytes]);
  if (chain.length) parts.push([0x1a, chain]);
  let size = 0;
  for (const [, b] of parts) size += 1 + varintSize(b.length) + b.length;
  if (accountNumber !== 0n) size += 1 + varintSize(accountNumber);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const [tag, b] of parts) {
    out[o++] = tag;
    o = putVarint(out, o, b.length);
    out.set(b, o);
    o += b.length;
  }
  if (accountNumber !== 0n) {
    out[o++] = 0x20;
    o = putVarint(out, o, accountNumber);
  }
  return out;
}

function varintSize(v: number | bigint): number {
  let n = 1;
  let x = BigInt(v);
  while (x >= 0x80n) {
    x >>= 7n;
    n++;
  }
  return n;
}

function putVarint(buf: Buffer, o: number, v: number | bigint): number {
  let x = BigInt(v);
  while (x >= 0x80n) {
    buf[o++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  buf[o++] = Number(x);
  return o;
}

/**
 * True when `b` is exactly what TxRaw.encode would write for the message it
 * decodes to: fields 1 (body, non-empty), 2 (auth info, non-empty) and 3
 * (signatures, repeated) in that order, length-delimited with minimal
 * varints, nothing else and nothing after. A scan instead of a re-encode: the
 * same answer without building the message again (one malleability check per tx).
 */
export function isCanonicalTxRaw(b: Uint8Array): boolean {
  let o = 0;
  let last = 0;
  while (o < b.length) {
    const tag = b[o++]!;
    const field = tag >> 3;
    if ((tag & 7) !== 2 || field < 1 || field > 3 || field < last || (field === last && field !== 3)) return false;
    last = field;
    // minimal varint length
    let len = 0;
    let shift = 0;
    let i = 0;
    for (;;) {
      if (o >= b.length || i === 5) return false;
      const x = b[o++]!;
      if (i > 0 && x === 0) return false; // a trailing zero group is a padded (non-minimal) varint
      len += (x & 0x7f) * 2 ** shift;
      shift += 7;
      i++;
      if (x < 0x80) break;
    }
    if (len === 0 && field !== 3) return false; // empty body/auth info bytes are omitted by the encoder
    o += len;
    if (o > b.length) return false;
  }
  return true;
}

/**
 * Decode TxRaw → TxBody, AuthInfo and every message, and check the structure:
 * canonical TxRaw encoding, at least one message, known message types, no
 * unknown critical extensions, one signer with one direct-mode signature, a
 * secp256k1 public key if any. Throws a ChainError of the ante's decode stage.
 */
export function decodeTx(bytes: Uint8Array, routes: ReadonlyMap<string, MsgDef>, hash = txHash(bytes)): DecodedTx {
  let raw: TxRaw, body: TxBody, authInfo: AuthInfo;
  try {
    raw = pb.TxRaw.decode(bytes);
  } catch (e) {
    throw ErrTxDecode(`bytes are not a cosmos TxRaw (${(e as Error).message})`);
  }
  try {
    if (!isCanonicalTxRaw(bytes)) throw new Error('non-canonical or trailing bytes');
    body = pb.TxBody.decode(raw.bodyBytes) as unknown as TxBody;
    authInfo = pb.AuthInfo.decode(raw.authInfoBytes) as unknown as AuthInfo;
  } catch (e) {
    throw ErrTxDecode(`TxRaw does not hold a valid TxBody/AuthInfo (${(e as Error).message})`);
  }
  if (body.messages.length === 0) throw ErrNoMsgs();
  const msgs: DecodedMsg[] = [];
  for (const any of body.messages) {
    const def = routes.get(any.typeUrl);
    if (!def) throw ErrUnknownMsgType(`"${any.typeUrl}" is not a message this chain knows`);
    let value: unknown;
    try {
      value = def.type.decode(any.value);
    } catch (e) {
      throw ErrTxDecode(`message ${any.typeUrl} does not decode (${(e as Error).message})`);
    }
    msgs.push({ typeUrl: any.typeUrl, def, value });
  }
  let extension: DecodedTx['extension'];
  for (const opt of body.extensionOptions) {
    throw ErrUnsupportedExtension(`"${opt.typeUrl}"`);
  }
  for (const opt of body.nonCriticalExtensionOptions) {
    if (opt.typeUrl !== TX_EXTENSION_URL) continue; // non-critical: unknown ones are ignored
    try {
      const ext = perpchain.tx.v1.TxExtension.decode(opt.value);
      extension = { chainId: ext.chainId, accountNumber: toBigInt(ext.accountNumber) };
    } catch (e) {
      throw ErrTxDecode(`TxExtension does not decode (${(e as Error).message})`);
    }
  }
  const protocol = msgs.filter((m) => m.def.protocolOnly).length;
  if (protocol > 0) {
    // A proposer-injected tx (oracle votes): no signer, no fee, nothing else in it.
    if (protocol !== msgs.length) throw ErrInvalidSigners('proposer-injected messages cannot be mixed with signed ones');
    if (authInfo.signerInfos.length !== 0 || raw.signatures.length !== 0) throw ErrInvalidSigners('a proposer-injected tx carries no signatures');
    return {
      hash,
      raw,
      body,
      authInfo,
      msgs,
      signer: '',
      pubKey: undefined,
      signature: new Uint8Array(),
      sequence: 0n,
      gasLimit: 0n,
      fee: [],
      memo: body.memo,
      timeoutHeight: toBigInt(body.timeoutHeight),
      extension,
      size: bytes.length,
    };
  }
  if (authInfo.signerInfos.length !== 1 || raw.signatures.length !== 1) {
    throw ErrInvalidSigners(`got ${authInfo.signerInfos.length} signer infos and ${raw.signatures.length} signatures`);
  }
  const si = authInfo.signerInfos[0]!;
  if (si.modeInfo?.single?.mode !== SignMode.SIGN_MODE_DIRECT) throw ErrInvalidSigners('only SIGN_MODE_DIRECT single signatures are accepted');
  let pubKey: Uint8Array | undefined;
  if (si.publicKey) {
    if (si.publicKey.typeUrl !== SECP256K1_PUBKEY_URL) throw ErrUnknownPubKeyType(`got "${si.publicKey.typeUrl}"`);
    try {
      pubKey = pb.Secp256k1PubKey.decode(si.publicKey.value).key;
    } catch (e) {
      throw ErrTxDecode(`public key does not decode (${(e as Error).message})`);
    }
  }
  const signers = new Set<string>();
  for (const m of msgs) signers.add(m.def.signer(m.value));
  if (signers.size !== 1) throw ErrInvalidSigners(`messages name ${signers.size} different signers; send one tx per signer`);
  const signer = [...signers][0]!;
  // a malformed signer would otherwise surface later as "has never received funds"
  const problem = addressProblem(signer);
  if (problem !== undefined) throw ErrInvalidSigners(`the messages' signer "${signer.slice(0, 100)}" is not a valid address: ${problem}`);
  const fee = authInfo.fee;
  return {
    hash,
    raw,
    body,
    authInfo,
    msgs,
    signer,
    pubKey,
    signature: raw.signatures[0]!,
    sequence: toBigInt(si.sequence),
    gasLimit: fee ? toBigInt(fee.gasLimit) : 0n,
    fee: (fee?.amount ?? []).map((c) => ({ denom: c.denom, amount: c.amount })),
    memo: body.memo,
    timeoutHeight: toBigInt(body.timeoutHeight),
    extension,
    size: bytes.length,
  };
}
