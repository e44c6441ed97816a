import { hash } from 'node:crypto';
import type { Ctx } from '../context.js';
import { addressFromPubKey } from '../codec/address.js';
import { parseAmount } from '../codec/amount.js';
import { isValidPubKey, precheckSignature, verifySecp256k1 } from '../crypto/secp256k1.js';
import type { SigCache } from '../crypto/sig-cache.js';
import {
  ErrGasLimitTooHigh,
  ErrInsufficientFee,
  ErrInsufficientFundsForFee,
  ErrInvalidFee,
  ErrInvalidMsg,
  ErrInvalidPubKey,
  ErrInvalidSignature,
  ErrMemoTooLong,
  ErrSignatureHighS,
  ErrTimeoutHeight,
  ErrTxTooLarge,
  ErrUnknownAccount,
  ErrWrongAccountNumber,
  ErrWrongChainId,
  ErrWrongSequence,
} from '../errors/tx.js';
import { ChainError } from '../errors/index.js';
import { signBytes, type DecodedTx } from './decode.js';
import type { AuthKeeper, Account } from '../../modules/auth/index.js';
import type { BankKeeper } from '../../modules/bank/index.js';
import { DENOM } from '../../modules/bank/index.js';

export interface AnteDeps {
  auth: AuthKeeper;
  bank: BankKeeper;
  feeCollector: string;
  sigCache: SigCache;
  /** Block gas limit from the consensus params (≤ 0 = unlimited). */
  maxBlockGas(): bigint;
}

/** The fee a gas limit requires: ceil(gasLimit · price / 10^6), rounded up (toward the chain). */
export function requiredFee(gasLimit: bigint, minGasPriceMicro: bigint): bigint {
  return (gasLimit * minGasPriceMicro + 999_999n) / 1_000_000n;
}

/** The size check runs before decoding (it needs only the byte length). */
export function checkTxSize(size: number, maxTxBytes: number): void {
  if (size > maxTxBytes) throw ErrTxTooLarge(`${size} bytes, limit ${maxTxBytes}`);
}

/**
 * Ante handler: everything a tx must pass before its messages run, in the
 * order of modules/auth/README.md, each with its own error (chain id,
 * signer and public key, account number, signature, sequence, memo and
 * timeout, gas limit, fee, each message's stateless validation). On success it charges the fee, records the public key and bumps
 * the sequence (in ctx.store; the caller decides whether to keep it).
 */
export function runAnte(deps: AnteDeps, ctx: Ctx, tx: DecodedTx): Account {
  const params = deps.auth.getParams(ctx.store);
  ctx.gas.consume(params.txSizeCostPerByte * tx.size, 'tx size');

  // chain id (explicit only when the tx carries our TxExtension; the signature covers it anyway)
  if (tx.extension && tx.extension.chainId !== ctx.chainId) {
    throw ErrWrongChainId(`signed for "${tx.extension.chainId}", this chain is "${ctx.chainId}"`);
  }

  // signer, account and public key
  const account = deps.auth.getAccount(ctx.store, tx.signer);
  if (!account) throw ErrUnknownAccount(`${tx.signer} has never received funds`);
  const pubKey = account.pubKey ?? tx.pubKey;
  if (!pubKey) throw ErrInvalidPubKey(`${tx.signer} has no public key on chain yet, so its first tx must carry one`);
  if (tx.pubKey && account.pubKey && Buffer.compare(tx.pubKey, account.pubKey) !== 0) {
    throw ErrInvalidPubKey(`tx carries a different public key than the one registered for ${tx.signer}`);
  }
  // A cached signature was verified against this very key (the tx's own, covered by its hash), and
  // both verifiers accept only a 33-byte key that libsecp256k1 parses: a hit proves the key valid.
  const verified = deps.sigCache.has(tx.hash, account.accountNumber);
  if (!account.pubKey) {
    if (!verified && !isValidPubKey(pubKey)) throw ErrInvalidPubKey('not a valid compressed secp256k1 point');
    if (addressFromPubKey(pubKey) !== tx.signer) throw ErrInvalidPubKey(`key derives ${addressFromPubKey(pubKey)}, signer is ${tx.signer}`);
  }
  if (tx.extension && tx.extension.accountNumber !== account.accountNumber) {
    throw ErrWrongAccountNumber(`signed with account number ${tx.extension.accountNumber}, ${tx.signer} has ${account.accountNumber}`);
  }

  // signature (gas is charged whether or not the cache hits, so every node charges the same)
  ctx.gas.consume(params.sigVerifyCostSecp256k1, 'signature verification');
  // A cached signature verified, so it is also low-S and well formed: the checks below run only on a miss.
  if (!verified) {
    const pre = precheckSignature(tx.signature);
    if (pre === 'high_s') throw ErrSignatureHighS('normalise s to the lower half of the curve order (s ≤ n/2)');
    const digest = hash('sha256', signBytes(tx.raw, ctx.chainId, account.accountNumber), 'buffer');
    const r = pre === 'ok' ? verifySecp256k1(tx.signature, digest, pubKey) : 'bad';
    if (r !== 'ok') {
      throw ErrInvalidSignature(
        `${tx.signature.length === 64 ? '' : `signature has ${tx.signature.length} bytes, expected 64; `}` +
          `check that you signed for chain-id "${ctx.chainId}", account number ${account.accountNumber} and sequence ${tx.sequence}`,
      );
    }
    deps.sigCache.add(tx.hash, account.accountNumber);
  }

  if (tx.sequence !== account.sequence) {
    throw ErrWrongSequence(`expected ${account.sequence}, got ${tx.sequence}`);
  }

  // memo and timeout
  // bytes, as the Cosmos SDK counts its max_memo_characters (a string's .length counts UTF-16 units: neither bytes nor characters)
  const memoBytes = Buffer.byteLength(tx.memo, 'utf8');
  if (memoBytes > params.maxMemoCharacters) throw ErrMemoTooLong(`${memoBytes} bytes (UTF-8), limit ${params.maxMemoCharacters}`);
  if (tx.timeoutHeight > 0n && ctx.height > tx.timeoutHeight) throw ErrTimeoutHeight(`timeout_height ${tx.timeoutHeight}, block ${ctx.height}`);

  // fee and gas limit
  const maxGas = deps.maxBlockGas();
  if (maxGas > 0n && tx.gasLimit > maxGas) throw ErrGasLimitTooHigh(`gas limit ${tx.gasLimit}, block limit ${maxGas}`);
  const fee = feeAmount(tx);
  const need = requiredFee(tx.gasLimit, params.minGasPriceMicro);
  if (fee < need) throw ErrInsufficientFee(`fee ${fee} uusdc for gas limit ${tx.gasLimit} is below ${need} (min gas price ${params.minGasPriceMicro}/10^6 uusdc)`);
  if (fee > 0n) {
    const have = deps.bank.balance(ctx.store, tx.signer);
    if (have < fee) throw ErrInsufficientFundsForFee(`${tx.signer} has ${have} uusdc, fee is ${fee}`);
  }

  // stateless message checks
  for (const m of tx.msgs) {
    try {
      m.def.validateBasic(m.value);
    } catch (e) {
      if (e instanceof ChainError) throw e;
      throw ErrInvalidMsg(`${m.typeUrl}: ${(e as Error).message}`);
    }
  }

  // effects: fee, public key, sequence
  if (fee > 0n) {
    deps.bank.send(ctx, tx.signer, deps.feeCollector, fee, 'fee');
  }
  const updated: Account = { ...account, pubKey, sequence: account.sequence + 1n };
  deps.auth.setAccount(ctx.store, updated);
  ctx.events.emit('tx', { signer: tx.signer, sequence: tx.sequence, fee, hash: tx.hash }, ['signer', 'hash']);
  return updated;
}

export function feeAmount(tx: DecodedTx): bigint {
  if (tx.fee.length === 0) return 0n;
  if (tx.fee.length !== 1 || tx.fee[0]!.denom !== DENOM) {
    throw ErrInvalidFee(`got [${tx.fee.map((c) => `${c.amount}${c.denom}`).join(', ')}], expected one ${DENOM} amount`);
  }
  const a = parseAmount(tx.fee[0]!.amount, 'fee amount');
  if (!a.ok) throw ErrInvalidFee(a.reason);
  return a.value;
}
