import { decodeInt, encodeInt } from '../../chain/codec/amount.js';
import { moduleAddress } from '../../chain/codec/address.js';
import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { DecodeCache } from '../../chain/store/decode-cache.js';
import { ErrInsufficientFunds, ErrInvalidAmount } from './errors.js';
import type { AccountKeeper } from './expected-keepers.js';
import { balanceKey, PARAMS_KEY, SUPPLY_KEY } from './keys.js';

export interface BankParams {
  sendEnabled: boolean;
}
export const DEFAULT_BANK_PARAMS: BankParams = { sendEnabled: true };

type EventCtx = Pick<Ctx, 'store' | 'events'>;

const paramsCache = new DecodeCache((b: Uint8Array): BankParams => ({ sendEnabled: perpchain.bank.v1.Params.decode(b).sendEnabled }));

/**
 * The only door to uusdc balances. Every movement is a transfer between two
 * balances (supply never changes after genesis except through mint, which
 * only genesis and tests use), so Σ balances = supply holds by construction.
 */
export class BankKeeper {
  /** Module accounts that hold pooled funds; MsgSend may not pay them directly. */
  private readonly blocked = new Set<string>();

  constructor(private readonly accounts: AccountKeeper) {}

  registerModuleAccount(name: string): string {
    const addr = moduleAddress(name);
    this.blocked.add(addr);
    return addr;
  }

  isBlocked(address: string): boolean {
    return this.blocked.has(address);
  }

  balance(store: KVReader, address: string): bigint {
    const b = store.get(balanceKey(address));
    return b ? decodeInt(b) : 0n;
  }

  private setBalance(store: KVStore, address: string, amount: bigint): void {
    if (amount === 0n) store.delete(balanceKey(address));
    else store.set(balanceKey(address), encodeInt(amount));
  }

  supply(store: KVReader): bigint {
    const b = store.get(SUPPLY_KEY);
    return b ? decodeInt(b) : 0n;
  }

  /**
   * CheckTx: refuse an outflow the block would surely refuse. `pending` is what the signer's pending txs and
   * the tx's earlier messages add to (+) or take from (−) the balance beyond the check state.
   */
  requireSpendable(store: KVReader, address: string, amount: bigint, pending: bigint): void {
    const have = this.balance(store, address);
    if (have + pending >= amount) return;
    const note = pending > 0n ? ` (and ${pending} from its pending withdrawals)` : pending < 0n ? ` (${-pending} of it spent by its pending txs and earlier messages)` : '';
    throw ErrInsufficientFunds(`${address} has ${have} uusdc${note}, needs ${amount}`);
  }

  send(ctx: EventCtx, from: string, to: string, amount: bigint, reason = 'send'): void {
    if (amount <= 0n) throw ErrInvalidAmount(`amount must be positive, got ${amount}`);
    const have = this.balance(ctx.store, from);
    if (have < amount) throw ErrInsufficientFunds(`${from} has ${have} uusdc, needs ${amount}`);
    this.setBalance(ctx.store, from, have - amount);
    this.accounts.ensureAccount(ctx, to);
    this.setBalance(ctx.store, to, this.balance(ctx.store, to) + amount);
    ctx.events.emit('bank.transfer', { sender: from, recipient: to, amount, reason }, ['sender', 'recipient']);
  }

  /** Create new uusdc (genesis and test set-up only; no message reaches it). */
  mint(ctx: EventCtx, to: string, amount: bigint): void {
    if (amount <= 0n) throw ErrInvalidAmount(`mint amount must be positive, got ${amount}`);
    this.accounts.ensureAccount(ctx, to);
    this.setBalance(ctx.store, to, this.balance(ctx.store, to) + amount);
    ctx.store.set(SUPPLY_KEY, encodeInt(this.supply(ctx.store) + amount));
  }

  getParams(store: KVReader): BankParams {
    const b = store.get(PARAMS_KEY);
    return b ? paramsCache.get(b) : DEFAULT_BANK_PARAMS;
  }

  setParams(store: KVStore, p: BankParams): void {
    store.set(PARAMS_KEY, perpchain.bank.v1.Params.encode({ sendEnabled: p.sendEnabled }).finish());
  }
}
