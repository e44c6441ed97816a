import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { decodeInt, encodeInt } from '../../chain/codec/amount.js';
import { abs, floorDiv, truncDiv } from '../../chain/math/int.js';
import {
  accountRisk,
  FUNDING_SCALE,
  quoteExponent,
  settleFundingAmount,
  tradeQuote,
  type AccountRisk,
  type PositionRiskInput,
} from './margin.js';
import { ErrInsufficientCollateral, ErrInvalidAmount, ErrInvalidRecipient, ErrInvalidSubaccount, ErrStalePrice, ErrTooManyPositions } from './errors.js';
import type { BankKeeper, MarketView, PerpetualsKeeper, PriceKeeper } from './expected-keepers.js';
import { BAD_DEBT_TABLE, badDebtKey, DUST_KEY, MAX_SUBACCOUNT_NUMBER, subaccountKey } from './keys.js';
import { decodeSubaccount, encodeSubaccount, type Position, type Subaccount, type SubaccountId } from './types.js';

type EventCtx = Pick<Ctx, 'store' | 'events'>;

/** At most this many markets with an open position per subaccount (bounds every margin computation). */
export const MAX_POSITIONS = 32;

export type SubaccountListener = (store: KVStore, sub: Subaccount, journal: Ctx['journal'] | undefined) => void;

export interface TradeResult {
  sub: Subaccount;
  /** PnL realised by the closing part of the trade (informational). */
  realizedPnl: bigint;
  before: bigint;
  after: bigint;
}

/**
 * Cross-margin subaccounts. Collateral is a signed uusdc balance held in the
 * bank by the "subaccounts" module account (the pool); trades move it between
 * subaccounts, fees and dust move it out to the fee collector and insurance
 * fund. Funding settles lazily with an exact sub-uusdc carry, so settling
 * every block or once gives the same result.
 */
export class SubaccountsKeeper {
  private readonly listeners: SubaccountListener[] = [];

  constructor(
    private readonly bank: BankKeeper,
    private readonly perps: PerpetualsKeeper,
    private readonly prices: PriceKeeper,
    readonly poolAddress: string,
    readonly insuranceFundAddress: string,
  ) {}

  /** Called after every write of a subaccount (the liquidation index listens). */
  onUpdate(listener: SubaccountListener): void {
    this.listeners.push(listener);
  }

  static checkId(id: SubaccountId): void {
    if (!Number.isInteger(id.number) || id.number < 0 || id.number > MAX_SUBACCOUNT_NUMBER) {
      throw ErrInvalidSubaccount(`subaccount number ${id.number} must be in [0, ${MAX_SUBACCOUNT_NUMBER}]`);
    }
  }

  /** The subaccount (empty when it has never been used). */
  get(store: KVReader, id: SubaccountId): Subaccount {
    const b = store.get(subaccountKey(id.owner, id.number));
    return b ? decodeSubaccount(b) : { owner: id.owner, number: id.number, collateral: 0n, positions: [] };
  }

  exists(store: KVReader, id: SubaccountId): boolean {
    return store.get(subaccountKey(id.owner, id.number)) !== undefined;
  }

  /** Write a subaccount (deleted when empty) and notify listeners. */
  save(store: KVStore, sub: Subaccount, journal?: Ctx['journal']): void {
    const key = subaccountKey(sub.owner, sub.number);
    if (sub.collateral === 0n && sub.positions.length === 0) store.delete(key);
    else store.set(key, encodeSubaccount(sub));
    for (const l of this.listeners) l(store, sub, journal);
  }

  position(sub: Subaccount, marketId: number): Position | undefined {
    return sub.positions.find((p) => p.marketId === marketId);
  }

  // -------------------------------------------------------------- risk

  /** Inputs of the margin formulas for each position, at current oracle prices and funding indexes. */
  riskInputs(store: KVReader, sub: Subaccount, overrides?: ReadonlyMap<number, bigint>): PositionRiskInput[] {
    return sub.positions.map((p) => {
      const m = this.perps.market(store, p.marketId) as MarketView & { oiLowerCap: bigint; oiUpperCap: bigint };
      const price = overrides?.get(p.marketId) ?? this.prices.price(store, p.marketId);
      const { paid } = settleFundingAmount(p.size, this.perps.fundingIndex(store, p.marketId), p.fundingIndex, p.fundingCarry);
      return {
        marketId: p.marketId,
        size: p.size,
        price,
        e: quoteExponent(m),
        imfPpm: this.perps.effectiveImf(store, m, price),
        mmfPpm: m.maintenanceMarginPpm,
        unsettledFunding: paid,
      };
    });
  }

  /** NC, IMR, MMR and per-position figures, with unsettled funding included. */
  risk(store: KVReader, sub: Subaccount, overrides?: ReadonlyMap<number, bigint>): AccountRisk {
    return accountRisk(sub.collateral, this.riskInputs(store, sub, overrides));
  }

  /** Throws ErrInsufficientCollateral when NC < IMR. */
  requireInitialMargin(store: KVReader, sub: Subaccount, what: string): AccountRisk {
    const r = this.risk(store, sub);
    if (r.nc < r.imr) {
      throw ErrInsufficientCollateral(`${what} would leave net collateral ${r.nc} uusdc below the initial margin requirement ${r.imr} (shortfall ${r.imr - r.nc} uusdc)`);
    }
    return r;
  }

  // ----------------------------------------------------------- funding

  /** Settle every position's funding into collateral (mutates and returns `sub`; caller saves). */
  settleFunding(ctx: EventCtx, sub: Subaccount): Subaccount {
    for (const p of sub.positions) {
      const index = this.perps.fundingIndex(ctx.store, p.marketId);
      if (index === p.fundingIndex) continue;
      const { paid, carry } = settleFundingAmount(p.size, index, p.fundingIndex, p.fundingCarry);
      sub.collateral += paid;
      p.fundingIndex = index;
      p.fundingCarry = carry;
      if (paid !== 0n) {
        ctx.events.emit('subaccounts.funding', { owner: sub.owner, number: sub.number, market_id: p.marketId, amount: paid }, ['owner']);
      }
    }
    return sub;
  }

  // ------------------------------------------------------ money in/out

  deposit(ctx: Ctx, id: SubaccountId, amount: bigint): Subaccount {
    SubaccountsKeeper.checkId(id);
    if (amount <= 0n) throw ErrInvalidAmount('deposit must be positive');
    this.bank.send(ctx, id.owner, this.poolAddress, amount, 'deposit');
    const sub = this.settleFunding(ctx, this.get(ctx.store, id));
    sub.collateral += amount;
    this.save(ctx.store, sub, ctx.journal);
    ctx.events.emit('subaccounts.deposit', { owner: id.owner, number: id.number, amount }, ['owner']);
    return sub;
  }

  /** CheckTx: a deposit of more than the owner's bank balance (see BankKeeper.requireSpendable) surely fails. */
  precheckDeposit(store: KVReader, owner: string, amount: bigint, pending: bigint): void {
    this.bank.requireSpendable(store, owner, amount, pending);
  }

  /**
   * No collateral goes to a module account: a withdrawal to the margin pool itself moved nothing while the
   * collateral fell (conservation broke); to any other module account it was lost to its owner.
   */
  checkRecipient(recipient: string): void {
    if (this.bank.isBlocked(recipient)) throw ErrInvalidRecipient(`${recipient} is a module account`);
  }

  /**
   * The recipient rule, and no outflow while a market the subaccount holds has a stale oracle price (its
   * margin cannot be known, and taking collateral out adds risk as surely as an order does).
   */
  checkOutflow(store: KVReader, id: SubaccountId, recipient: string, nowSec: bigint): void {
    this.checkRecipient(recipient);
    const b = store.get(subaccountKey(id.owner, id.number));
    if (!b) return;
    for (const p of decodeSubaccount(b).positions) {
      if (this.prices.isStale(store, p.marketId, nowSec)) throw ErrStalePrice(`market ${p.marketId} has had no oracle report for longer than the staleness threshold; close the position or wait for prices`);
    }
  }

  withdraw(ctx: Ctx, id: SubaccountId, amount: bigint, recipient: string): Subaccount {
    SubaccountsKeeper.checkId(id);
    if (amount <= 0n) throw ErrInvalidAmount('withdrawal must be positive');
    this.checkOutflow(ctx.store, id, recipient, ctx.timeSec);
    const sub = this.settleFunding(ctx, this.get(ctx.store, id));
    sub.collateral -= amount;
    this.requireInitialMargin(ctx.store, sub, `withdrawing ${amount} uusdc`);
    const pool = this.bank.balance(ctx.store, this.poolAddress);
    if (pool < amount) {
      // Claims exceed the pool's cash while insolvent accounts are not yet closed, and by the recorded bad debt
      // until the insurance fund has repaid it (from the fees it receives; see repayBadDebt).
      const bad = this.totalBadDebt(ctx.store);
      throw ErrInsufficientCollateral(
        bad > 0n
          ? `the margin pool holds ${pool} uusdc, less than ${amount}: ${bad} uusdc of bad debt is recorded and is repaid from the insurance fund as it receives fees; withdraw at most ${pool} now`
          : `the margin pool holds ${pool} uusdc, less than ${amount}: counterparties' losses are not yet realised (insolvent accounts are being liquidated); retry in a few blocks or withdraw at most ${pool}`,
      );
    }
    this.save(ctx.store, sub, ctx.journal);
    this.bank.send(ctx, this.poolAddress, recipient, amount, 'withdraw');
    ctx.events.emit('subaccounts.withdraw', { owner: id.owner, number: id.number, amount, recipient }, ['owner']);
    return sub;
  }

  transfer(ctx: Ctx, from: SubaccountId, to: SubaccountId, amount: bigint): void {
    SubaccountsKeeper.checkId(from);
    SubaccountsKeeper.checkId(to);
    if (amount <= 0n) throw ErrInvalidAmount('transfer must be positive');
    if (from.owner === to.owner && from.number === to.number) throw ErrInvalidSubaccount('cannot transfer to the same subaccount');
    this.checkOutflow(ctx.store, from, to.owner, ctx.timeSec);
    const src = this.settleFunding(ctx, this.get(ctx.store, from));
    src.collateral -= amount;
    this.requireInitialMargin(ctx.store, src, `transferring ${amount} uusdc`);
    this.save(ctx.store, src, ctx.journal);
    const dst = this.settleFunding(ctx, this.get(ctx.store, to));
    dst.collateral += amount;
    this.save(ctx.store, dst, ctx.journal);
    ctx.events.emit('subaccounts.transfer', { owner: from.owner, number: from.number, to_owner: to.owner, to_number: to.number, amount }, ['owner', 'to_owner']);
  }

  // ------------------------------------------------------------ trades

  /**
   * Apply one side of a fill: settle funding, change the position by `delta`
   * quantums and collateral by `cash` (negative = paid), update the cost basis
   * and open interest. Does not check margin (the caller decides) and does
   * not save (call save, so one fill writes each subaccount once).
   */
  applyTrade(ctx: EventCtx, sub: Subaccount, marketId: number, delta: bigint, cash: bigint): TradeResult {
    if (delta === 0n) throw ErrInvalidAmount('trade of size zero');
    this.settleFunding(ctx, sub);
    let i = sub.positions.findIndex((p) => p.marketId === marketId);
    if (i < 0) {
      if (sub.positions.length >= MAX_POSITIONS) throw ErrTooManyPositions(`at most ${MAX_POSITIONS} markets per subaccount`);
      const p: Position = { marketId, size: 0n, costBasis: 0n, fundingIndex: this.perps.fundingIndex(ctx.store, marketId), fundingCarry: 0n };
      i = sub.positions.findIndex((x) => x.marketId > marketId);
      if (i < 0) i = sub.positions.length;
      sub.positions.splice(i, 0, p);
    }
    const p = sub.positions[i]!;
    const before = p.size;
    const after = before + delta;
    let realizedPnl = 0n;
    if (before === 0n || (before > 0n) === (delta > 0n)) {
      p.costBasis += -cash; // opening or adding: the cost is what was paid (long) or received (short, negative)
    } else {
      const closing = abs(delta) < abs(before) ? abs(delta) : abs(before);
      const removedBasis = truncDiv(p.costBasis * closing, abs(before));
      const closingCash = truncDiv(cash * closing, abs(delta));
      realizedPnl = closingCash - removedBasis;
      p.costBasis -= removedBasis;
      if (abs(delta) > abs(before)) p.costBasis = -(cash - closingCash); // flipped: the rest of the trade opens the new side
    }
    p.size = after;
    sub.collateral += cash;
    if (after === 0n) {
      this.addDust(ctx, p.fundingCarry);
      sub.positions.splice(i, 1);
    }
    const longBefore = before > 0n ? before : 0n;
    const longAfter = after > 0n ? after : 0n;
    this.perps.addOpenInterest(ctx.store, marketId, longAfter - longBefore);
    return { sub, realizedPnl, before, after };
  }

  /**
   * Settle one fill between two subaccounts: the buyer pays ⌈q⌉, the seller
   * receives ⌊q⌋ (the rounding dust goes to the insurance fund), both pay
   * their fee (negative = rebate, paid out of the fee collector after the
   * positive fee came in). Saves both. Margin checks are the caller's.
   */
  executeFill(
    ctx: Ctx,
    f: { marketId: number; size: bigint; price: bigint; buyer: SubaccountId; seller: SubaccountId; buyerFee: bigint; sellerFee: bigint; feeCollector: string },
  ): { buyer: TradeResult; seller: TradeResult; buyerPays: bigint; sellerGets: bigint } {
    if (f.size <= 0n) throw ErrInvalidAmount('fill size must be positive');
    if (f.buyer.owner === f.seller.owner && f.buyer.number === f.seller.number) throw ErrInvalidSubaccount('a subaccount cannot trade with itself');
    const m = this.perps.market(ctx.store, f.marketId);
    const { buyerPays, sellerGets } = tradeQuote(f.size, f.price, quoteExponent(m));
    const b = this.get(ctx.store, f.buyer);
    const buyer = this.applyTrade(ctx, b, f.marketId, f.size, -buyerPays);
    const s = this.get(ctx.store, f.seller);
    const seller = this.applyTrade(ctx, s, f.marketId, -f.size, sellerGets);
    this.sweepTradeDust(ctx, buyerPays - sellerGets);
    // positive fees first so the collector can fund a rebate from the same fill
    const fees: Array<[Subaccount, bigint]> = [
      [b, f.buyerFee],
      [s, f.sellerFee],
    ];
    fees.sort((x, y) => (x[1] > y[1] ? -1 : x[1] < y[1] ? 1 : 0));
    for (const [sub, fee] of fees) this.chargeToModule(ctx, sub, fee, f.feeCollector, fee >= 0n ? 'trading fee' : 'maker rebate');
    this.save(ctx.store, b, ctx.journal);
    this.save(ctx.store, s, ctx.journal);
    return { buyer, seller, buyerPays, sellerGets };
  }

  /** Move uusdc between a subaccount's collateral and a bank account (fees, insurance payouts). */
  chargeToModule(ctx: EventCtx, sub: Subaccount, amount: bigint, to: string, reason: string): void {
    if (amount === 0n) return;
    sub.collateral -= amount;
    if (amount > 0n) this.bank.send(ctx, this.poolAddress, to, amount, reason);
    else this.bank.send(ctx, to, this.poolAddress, -amount, reason);
  }

  /** Rounding dust of a trade (buyer paid ⌈q⌉, seller got ⌊q⌋): pool → insurance fund. */
  sweepTradeDust(ctx: EventCtx, dust: bigint): void {
    if (dust > 0n) this.bank.send(ctx, this.poolAddress, this.insuranceFundAddress, dust, 'rounding');
  }

  /** Funding carry forfeited by a closed position (10^-18 uusdc); whole uusdc go to the insurance fund. */
  private addDust(ctx: EventCtx, amount: bigint): void {
    if (amount === 0n) return;
    const total = this.dust(ctx.store) + amount;
    const whole = floorDiv(total, FUNDING_SCALE);
    if (whole > 0n) this.bank.send(ctx, this.poolAddress, this.insuranceFundAddress, whole, 'funding dust');
    const rest = total - whole * FUNDING_SCALE;
    if (rest === 0n) ctx.store.delete(DUST_KEY);
    else ctx.store.set(DUST_KEY, encodeInt(rest));
  }

  dust(store: KVReader): bigint {
    const b = store.get(DUST_KEY);
    return b ? decodeInt(b) : 0n;
  }

  // ----------------------------------------------------------- bad debt

  badDebt(store: KVReader, marketId: number): bigint {
    const b = store.get(badDebtKey(marketId));
    return b ? decodeInt(b) : 0n;
  }

  totalBadDebt(store: KVReader): bigint {
    let t = 0n;
    for (const [, v] of store.scanTable(BAD_DEBT_TABLE)) t += decodeInt(v);
    return t;
  }

  /**
   * Repay recorded bad debt from `from` (the insurance fund) into the pool, markets in id order, up to
   * `available`; returns what was repaid. Until it is repaid the pool holds less than the claims on it by
   * that amount, and the last withdrawals would find it short.
   */
  repayBadDebt(ctx: EventCtx, from: string, available: bigint): bigint {
    let paid = 0n;
    for (const [key, v] of ctx.store.scanTable(BAD_DEBT_TABLE)) {
      if (paid >= available) break;
      const debt = decodeInt(v);
      const x = debt < available - paid ? debt : available - paid;
      if (x <= 0n) continue;
      this.bank.send(ctx, from, this.poolAddress, x, 'bad debt repaid');
      if (x === debt) ctx.store.delete(key);
      else ctx.store.set(key, encodeInt(debt - x));
      paid += x;
      ctx.events.emit('subaccounts.bad_debt_repaid', { market_id: parseInt(key.slice(BAD_DEBT_TABLE.length), 16), amount: x, remaining: debt - x }, ['market_id']);
    }
    return paid;
  }

  /** Write off a negative collateral balance as bad debt of a market (liquidation engine only). */
  recordBadDebt(ctx: EventCtx, sub: Subaccount, marketId: number, amount: bigint): void {
    if (amount <= 0n) return;
    sub.collateral += amount;
    ctx.store.set(badDebtKey(marketId), encodeInt(this.badDebt(ctx.store, marketId) + amount));
    ctx.events.emit('subaccounts.bad_debt', { owner: sub.owner, number: sub.number, market_id: marketId, amount }, ['owner', 'market_id']);
  }
}
