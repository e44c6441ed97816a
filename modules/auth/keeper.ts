import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt, encodeInt, decodeInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';
import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { accountKey, NEXT_ACCOUNT_NUMBER_KEY, PARAMS_KEY } from './keys.js';
import { DEFAULT_AUTH_PARAMS, decodeParams, encodeParams, type AuthParams } from './params.js';
import { DecodeCache } from '../../chain/store/decode-cache.js';

const paramsCache = new DecodeCache(decodeParams);

export interface Account {
  address: string;
  /** Compressed secp256k1 key, set by the account's first transaction. */
  pubKey: Uint8Array | undefined;
  accountNumber: bigint;
  sequence: bigint;
}

const BA = perpchain.auth.v1.BaseAccount;

export function encodeAccount(a: Account): Uint8Array {
  return BA.encode({
    address: a.address,
    pubKey: a.pubKey ?? new Uint8Array(),
    accountNumber: toLong(a.accountNumber),
    sequence: toLong(a.sequence),
  }).finish();
}

export function decodeAccount(b: Uint8Array): Account {
  const m = BA.decode(b);
  return {
    address: m.address,
    pubKey: m.pubKey.length ? m.pubKey : undefined,
    accountNumber: toBigInt(m.accountNumber),
    sequence: toBigInt(m.sequence),
  };
}

/** The only door to auth state. */
export class AuthKeeper {
  getAccount(store: KVReader, address: string): Account | undefined {
    const b = store.get(accountKey(address));
    return b ? decodeAccount(b) : undefined;
  }

  setAccount(store: KVStore, a: Account): void {
    store.set(accountKey(a.address), encodeAccount(a));
  }

  hasAccount(store: KVReader, address: string): boolean {
    return store.get(accountKey(address)) !== undefined;
  }

  /** Create the account at `address` with the next account number unless it exists; returns it when created. */
  ensureAccount(ctx: Pick<Ctx, 'store' | 'events'>, address: string): Account | undefined {
    if (ctx.store.get(accountKey(address)) !== undefined) return undefined; // exists: no need to decode it
    const num = this.nextAccountNumber(ctx.store);
    const a: Account = { address, pubKey: undefined, accountNumber: num, sequence: 0n };
    this.setAccount(ctx.store, a);
    ctx.store.set(NEXT_ACCOUNT_NUMBER_KEY, encodeInt(num + 1n));
    ctx.events.emit('auth.account_created', { address, account_number: num }, ['address']);
    return a;
  }

  nextAccountNumber(store: KVReader): bigint {
    const b = store.get(NEXT_ACCOUNT_NUMBER_KEY);
    return b ? decodeInt(b) : 0n;
  }

  setNextAccountNumber(store: KVStore, n: bigint): void {
    store.set(NEXT_ACCOUNT_NUMBER_KEY, encodeInt(n));
  }

  getParams(store: KVReader): AuthParams {
    const b = store.get(PARAMS_KEY);
    return b ? paramsCache.get(b) : DEFAULT_AUTH_PARAMS;
  }

  setParams(store: KVStore, p: AuthParams): void {
    store.set(PARAMS_KEY, encodeParams(p));
  }
}
