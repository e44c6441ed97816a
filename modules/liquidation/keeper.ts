import type { Ctx } from '../../chain/context.js';
import { EventSink, Journal } from '../../chain/context.js';
import { Branch } from '../../chain/store/branch.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { abs, ceilDiv, clamp, floorDiv, PPM } from '../../chain/math/int.js';
import {
  isLiquidatable,
  quoteExponent,
  tradeQuote,
  type AccountRisk,
  type Subaccount,
  type SubaccountId,
} from '../subaccounts/index.js';
import type { BankKeeper, ClobKeeper, PerpetualsKeeper, PriceKeeper, SubaccountsKeeper } from './expected-keepers.js';
import { decodeLiquidationParams, DEFAULT_LIQUIDATION_PARAMS, encodeLiquidationParams, type LiquidationParams } from './params.js';
import { accountKey, keyPrefix, maintenance, marketCoords, ppmFloor, RiskIndex, surplus, type MarketCoords } from './risk-index.js';

export { keyPrefix, ppmFloor };

export const PARAMS_KEY = 'liq/params/';
const E24 = 10n ** 24n;

export interface FlaggedAccount {
  key: string;
  owner: string;
  number: number;
  /** ⌊NC/MMR · 10^6⌋ from the exact (unrounded) NC and MMR, clamped to ±2^52: the liquidation order, ascending, ties by key. */
  ratioPpm: number;
}

export interface LiquidationSummary {
  height: bigint;
  /** In liquidation order. */
  readonly flagged: FlaggedAccount[];
  processed: string[];
  readonly carried: string[];
  /** flagged.length and carried.length, without completing the order (flagged and carried are made on demand). */
  flaggedCount: number;
  carriedCount: number;
}

/**
 * The liquidation engine. Every block, after prices, funding and matching:
 * find every subaccount with NC < MMR (RiskIndex: exact, without scanning
 * all accounts), then for the most under-collateralised first, up to a
 * per-block cap: cancel its orders, close part of its riskiest position
 * through the book with an IOC bounded by the bankruptcy price, settle the
 * difference to the bankruptcy price with the insurance fund (fee when
 * better, payout when worse), deleverage against ranked profitable
 * opposite positions when the fund cannot pay, and record as bad debt what
 * nothing covers. See README.md for the formulas and worked scenarios.
 */
export class LiquidationKeeper {
  readonly index = new RiskIndex();
  /** Read side: the last block's detection result. */
  last: LiquidationSummary = { height: 0n, flagged: [], processed: [], carried: [], flaggedCount: 0, carriedCount: 0 };

  constructor(
    private readonly d: {
      subaccounts: SubaccountsKeeper;
      perps: PerpetualsKeeper;
      prices: PriceKeeper;
      clob: ClobKeeper;
      bank: BankKeeper;
      insuranceFund: string;
    },
  ) {}

  getParams(store: KVReader): LiquidationParams {
    const b = store.get(PARAMS_KEY);
    return b ? decodeLiquidationParams(b) : DEFAULT_LIQUIDATION_PARAMS;
  }

  setParams(store: KVStore, p: LiquidationParams): void {
    store.set(PARAMS_KEY, encodeLiquidationParams(p));
  }

  insuranceFund(store: KVReader): bigint {
    return this.d.bank.balance(store, this.d.insuranceFund);
  }

  // ----------------------------------------------------------- index upkeep

  coords(store: KVReader, marketIds?: Iterable<number>): Map<number, MarketCoords> {
    const out = new Map<number, MarketCoords>();
    const ids = marketIds ? [...marketIds] : this.d.perps.markets(store).map((m) => m.id);
    for (const id of ids) {
      if (out.has(id)) continue;
      const m = this.d.perps.market(store, id);
      out.set(id, marketCoords(id, quoteExponent(m), m.maintenanceMarginPpm, this.d.prices.price(store, id), this.d.perps.fundingIndex(store, id)));
    }
    return out;
  }

  /** Subaccount listener: re-evaluate the account whenever it is written. */
  onSubaccountUpdate(store: KVReader, sub: Subaccount, journal: Journal | undefined): void {
    this.index.update(sub, this.coords(store, sub.positions.map((p) => p.marketId)), journal);
  }

  load(state: KVReader, subs: Iterable<Subaccount>): void {
    this.index.clear();
    const coords = this.coords(state);
    for (const [id, c] of coords) this.index.mmfSeen.set(id, c.mmf);
    for (const s of subs) if (s.positions.length) this.index.update(s, coords, undefined);
    this.index.seal();
  }

  // ------------------------------------------------------------- detection

  /**
   * Every liquidatable subaccount, most under-collateralised first (ties by
   * key). With `head`, only the first `head` places are in that order and the
   * rest follow in no particular order (see liquidationOrder).
   */
  detect(store: KVReader, head = Infinity): FlaggedAccount[] {
    const coords = this.coords(store);
    for (const [id, c] of coords) {
      const seen = this.index.mmfSeen.get(id);
      if (seen !== undefined && seen !== c.mmf) {
        // maintenance fraction changed: every holder's triggers are stale
        for (const key of [...this.index.holdersOf(id)].sort()) this.index.refresh(key, coords);
      }
      this.index.mmfSeen.set(id, c.mmf);
    }
    // The index screens every candidate in floating point with an error bound (RiskIndex.screen); what the bound
    // cannot decide, and order keys it cannot pin down, are computed here in bigint.
    const index = this.index;
    const flagged: Flagged[] = [];
    const c = index.candidates(coords);
    for (let i = 0; i < c.n; i++) {
      const slot = c.slot[i]!;
      let ppm = c.ppm[i]!;
      if (c.status[i] === 1 && ppm === ppm) {
        flagged.push(new Flagged(index.keys, slot, ppm, c.tie[i]!));
        continue;
      }
      if (c.status[i] === 0) {
        index.refreshSlot(slot, coords);
        continue;
      }
      // the rare rest in bigint: undecided by the screen, or a ppm key within its error bound of an integer
      const a = index.evalAt(slot)!;
      const m = surplus(a, coords);
      let liquidatable = c.status[i] === 1 || m < 0n;
      if (!liquidatable && m < 3n * BigInt(a.positions.length) * E24) {
        const [owner, number] = splitKey(a.key);
        liquidatable = isLiquidatable(this.d.subaccounts.risk(store, this.d.subaccounts.get(store, { owner, number })));
      }
      if (!liquidatable) {
        index.refreshSlot(slot, coords);
        continue;
      }
      index.markHot(slot);
      const mmr = maintenance(a, coords);
      ppm = Number(clamp(floorDiv((m + mmr) * PPM, mmr), -RATIO_CLAMP, RATIO_CLAMP));
      flagged.push(new Flagged(index.keys, slot, ppm, c.tie[i]!));
    }
    index.compactIfNeeded(coords);
    // The order is a total order on (ratioPpm, key), so the candidates' order does not matter
    return liquidationOrder(flagged, head);
  }

  /** Full scan over every subaccount (tests and benchmarks compare detect() with it). */
  fullScan(store: KVReader, subs: Iterable<Subaccount>): string[] {
    const out: string[] = [];
    for (const s of subs) {
      if (s.positions.length && isLiquidatable(this.d.subaccounts.risk(store, s))) out.push(accountKey(s));
    }
    return out.sort();
  }

  // ------------------------------------------------------------- end block

  endBlock(ctx: Ctx): void {
    const p = this.getParams(ctx.store);
    // ordered as far as this block can go (see the loop's bound); the query orders the rest when asked
    const cap = p.maxLiquidationsPerBlock;
    const flagged = this.detect(ctx.store, 4 * cap);
    // An attempt that could do nothing (no liquidity within its bounds, nothing to deleverage) does not use
    // up the per-block cap, so one stuck account cannot starve the others; attempts are bounded at 4 × cap.
    const adl: AdlBudget = { fills: 0, rankings: new Map() };
    const processed: string[] = [];
    let acted = 0;
    let i = 0;
    for (; i < flagged.length && acted < cap && i < 4 * cap; i++) {
      const f = flagged[i]!;
      const before = ctx.events.events.length;
      this.liquidateAccount(ctx, { owner: f.owner, number: f.number }, p, adl);
      processed.push(f.key);
      if (ctx.events.events.slice(before).some((e) => e.type === 'liquidation.liquidated' || e.type === 'liquidation.adl' || e.type === 'liquidation.bad_debt')) acted++;
    }
    const carriedFrom = i;
    // The full order and the carried keys are made on demand (a query): reading thousands of cold keys every
    // block of a crash is waste. The first 4 × cap places are already final, so the carried ones stay the same.
    let ordered: FlaggedAccount[] | undefined;
    const all = () => (ordered ??= liquidationOrder(flagged as Flagged[]));
    this.last = {
      height: ctx.height,
      get flagged() {
        return all();
      },
      processed,
      get carried() {
        return all().slice(carriedFrom).map((f) => f.key);
      },
      flaggedCount: flagged.length,
      carriedCount: flagged.length - carriedFrom,
    };
    if (flagged.length > carriedFrom) {
      ctx.events.emit('liquidation.carried', { count: flagged.length - carriedFrom, cap });
    }
    // Recorded bad debt leaves the pool short of the claims on it (the last to withdraw would bear it): what
    // the fund holds after this block's liquidations had their call on it goes to repay it first.
    const fund = this.insuranceFund(ctx.store);
    if (fund > 0n) this.d.subaccounts.repayBadDebt(ctx, this.d.insuranceFund, fund);
  }

  /** One account's liquidation step for this block. */
  liquidateAccount(ctx: Ctx, id: SubaccountId, p: LiquidationParams, adl: AdlBudget): void {
    const { subaccounts, clob } = this.d;
    clob.cancelAllOrders(ctx, id.owner, id.number, 'liquidation');
    let sub = subaccounts.settleFunding(ctx, subaccounts.get(ctx.store, id));
    subaccounts.save(ctx.store, sub, ctx.journal);
    let risk = subaccounts.risk(ctx.store, sub);
    if (!isLiquidatable(risk)) {
      this.coverNegativeCollateral(ctx, sub, undefined);
      return;
    }
    // the position carrying the most maintenance margin, ties by market id
    let pi = 0;
    for (let i = 1; i < risk.positions.length; i++) if (risk.positions[i]!.mmr > risk.positions[pi]!.mmr) pi = i;
    const pos = risk.positions[pi]!;
    const marketId = pos.marketId;
    const market = this.d.perps.market(ctx.store, marketId);
    const info = this.d.perps.marketInfo(ctx.store, marketId);
    const portion = this.portion(pos.size, pos.price, pos.e, info.stepSize, p);
    const side = pos.size > 0n ? 'sell' : 'buy';
    const plan = bankruptcy(risk, pi, portion);
    const fill = fillablePrice(risk, pos.price, market.maintenanceMarginPpm, p.spreadToMmfPpm, side);
    let limit = roundToTick(fill, info.tickSize, side);
    const bpTick = roundToTick(plan.priceNum, info.tickSize, side, plan.priceDen);
    if (risk.nc > 0n) limit = side === 'sell' ? (bpTick > limit ? bpTick : limit) : bpTick < limit ? bpTick : limit;

    // Through the book. The whole IOC settles against the bankruptcy quote of what it filled (below): fills
    // above the bankruptcy price pay for fills below it, and the insurance fund must be able to pay the net
    // shortfall. The fund's capacity is taken by the fills that settle, not by those proposed: a maker that
    // fails its own checks after approval took nothing (counting it cut later fills and forced ADL for nothing).
    const fund0 = this.insuranceFund(ctx.store);
    let filledSoFar = 0n;
    let receivedSoFar = 0n;
    const receivedFor = (q: bigint, px: bigint) => {
      const t = tradeQuote(q, px, pos.e);
      return side === 'sell' ? t.sellerGets : -t.buyerPays;
    };
    // the fund's net payout if the fills so far plus q at px settled now
    const shortfall = (q: bigint, px: bigint) => floorDiv(plan.quote * (filledSoFar + q), portion) - (receivedSoFar + receivedFor(q, px));
    const limiter = {
      allow: (px: bigint, size: bigint): bigint => {
        if (shortfall(size, px) <= fund0) return size;
        let lo = 0n;
        let hi = size / info.stepSize;
        while (lo < hi) {
          const mid = (lo + hi + 1n) / 2n;
          if (shortfall(mid * info.stepSize, px) <= fund0) lo = mid;
          else hi = mid - 1n;
        }
        return lo * info.stepSize;
      },
      settled: (px: bigint, size: bigint): void => {
        filledSoFar += size;
        receivedSoFar += receivedFor(size, px);
      },
    };
    const r = clob.liquidationMatch(ctx, { owner: id.owner, number: id.number, marketId, side, limitPrice: limit, quantity: portion }, limiter);

    // Settle the whole IOC against the bankruptcy quote of what it filled: fee when it received more (capped
    // at liquidation_fee_ppm of the quote), insurance payout when less. Settled fill by fill, a fill above the
    // bankruptcy price paid a fee out of an account whose other fill the fund was paying for, and the
    // insolvent account kept the difference.
    sub = subaccounts.get(ctx.store, id);
    let received = 0n;
    let quote = 0n;
    for (const f of r.fills) {
      received += f.takerCash;
      quote += abs(f.takerCash);
    }
    const dlt = r.filled > 0n ? received - floorDiv(plan.quote * r.filled, portion) : 0n;
    let fee = 0n;
    let paid = 0n;
    if (dlt < 0n) {
      paid = -dlt;
      subaccounts.chargeToModule(ctx, sub, dlt, this.d.insuranceFund, 'insurance payout');
    } else if (dlt > 0n) {
      // Never more than the equity left: an account still insolvent after this portion (its other positions,
      // or the rest of this one, short) keeps what it received above the bankruptcy quote to cover itself;
      // a fee taken from it would worsen its next bankruptcy price, paid by the next ADL counterparty.
      const cap = ceilDiv(quote * p.liquidationFeePpm, PPM);
      const equity = subaccounts.risk(ctx.store, sub).nc;
      fee = dlt < cap ? dlt : cap;
      if (fee > equity) fee = equity > 0n ? equity : 0n;
      if (fee > 0n) subaccounts.chargeToModule(ctx, sub, fee, this.d.insuranceFund, 'liquidation fee');
    }
    const insurance = fee - paid;
    subaccounts.save(ctx.store, sub, ctx.journal);
    if (r.filled > 0n) {
      ctx.events.emit(
        'liquidation.liquidated',
        {
          owner: id.owner,
          number: id.number,
          market_id: marketId,
          side,
          size: r.filled,
          quote,
          average_price: r.fills.length ? avgPrice(r.fills) : 0n,
          oracle_price: pos.price,
          bankruptcy_price: bpTick,
          limit_price: limit,
          fee,
          insurance_paid: paid,
          insurance_delta: insurance,
          portion,
        },
        ['owner', 'market_id'],
      );
    }

    // deleverage what the book and the fund could not take from an insolvent account
    let remaining = portion - r.filled;
    if (remaining > 0n) {
      risk = subaccounts.risk(ctx.store, sub);
      const still = risk.positions.find((x) => x.marketId === marketId);
      if (still && isLiquidatable(risk) && risk.nc < 0n && (r.stoppedByLimiter || r.filled === 0n)) {
        remaining = remaining < abs(still.size) ? remaining : abs(still.size);
        this.deleverage(ctx, id, marketId, remaining, p, adl);
      }
    }
    this.coverNegativeCollateral(ctx, subaccounts.get(ctx.store, id), marketId);
  }

  /** How much of a position to close this block. */
  private portion(size: bigint, price: bigint, e: number, step: bigint, p: LiquidationParams): bigint {
    const whole = abs(size);
    if (whole <= step) return whole;
    const notionalWhole = tradeQuote(whole, price, e).buyerPays;
    if (notionalWhole <= p.minLiquidationNotional) return whole;
    let q = ceilDiv(whole * p.positionFractionPpm, PPM);
    // at least the minimum notional's worth
    const k = e >= 0 ? price * 10n ** BigInt(e) : price;
    const minQ = e >= 0 ? ceilDiv(p.minLiquidationNotional, k) : ceilDiv(p.minLiquidationNotional * 10n ** BigInt(-e), price);
    if (q < minQ) q = minQ;
    q = (q / step) * step;
    return clamp(q, step, whole);
  }

  /**
   * Close `remaining` of the account's position against opposite positions,
   * ranked by unrealised profit × leverage (best first, ties by key), at the
   * bankruptcy price; a counterparty that the bankruptcy price would leave
   * insolvent is skipped. If the ranked list is exhausted, the rest closes at
   * the oracle price against the same ranking (never harming a
   * counterparty's solvency) and the account's shortfall becomes the
   * insurance fund's, then bad debt. At most max_adl_fills_per_block fills.
   */
  private deleverage(ctx: Ctx, id: SubaccountId, marketId: number, remaining: bigint, p: LiquidationParams, adl: AdlBudget): void {
    if (adl.fills >= p.maxAdlFillsPerBlock) return; // the block's ADL budget is spent: ranking would be wasted work
    const { subaccounts } = this.d;
    const selfKey = accountKey(id);
    const sub = subaccounts.get(ctx.store, id);
    const risk = subaccounts.risk(ctx.store, sub);
    const pi = risk.positions.findIndex((x) => x.marketId === marketId);
    const pos = risk.positions[pi]!;
    const side = pos.size > 0n ? 'sell' : 'buy';
    const plan = bankruptcy(risk, pi, remaining);
    const planSize = remaining;
    const bp = roundToTick(plan.priceNum, 1n, side, plan.priceDen);
    // Ranked once per block and market side, at its first ADL (the ranking walks every holder); later ADL in the
    // block reuses it, reading each counterparty's current position at its fill.
    const sign = pos.size > 0n ? -1n : 1n;
    const rankKey = `${marketId}/${sign}`;
    let ranked = adl.rankings.get(rankKey);
    if (!ranked) adl.rankings.set(rankKey, (ranked = this.rankCounterparties(ctx.store, marketId, sign)));
    const fillAt = (cp: RankedCounterparty, size: bigint, price: bigint, checkSolvency: boolean, atOracle: boolean): boolean => {
      if (remaining <= 0n || adl.fills >= p.maxAdlFillsPerBlock) return false;
      const q = remaining < abs(size) ? remaining : abs(size);
      if (q <= 0n) return true;
      const scratch = new Branch(ctx.store);
      const sctx: Ctx = { ...ctx, store: scratch, events: new EventSink(), journal: new Journal() };
      const buyer = side === 'sell' ? { owner: cp.owner, number: cp.number } : id;
      const seller = side === 'sell' ? id : { owner: cp.owner, number: cp.number };
      subaccounts.executeFill(sctx, { marketId, size: q, price, buyer, seller, buyerFee: 0n, sellerFee: 0n, feeCollector: this.d.insuranceFund });
      if (checkSolvency) {
        const after = subaccounts.risk(scratch, subaccounts.get(scratch, { owner: cp.owner, number: cp.number }));
        if (after.nc < 0n) {
          sctx.journal.revert();
          return true; // skip: the bankruptcy price would make this counterparty insolvent
        }
      }
      sctx.journal.mergeInto(ctx.journal); // journal first (as in the clob): a failed write is undone by the caller
      scratch.write();
      ctx.events.append(sctx.events.events);
      adl.fills++;
      remaining -= q;
      ctx.events.emit(
        'liquidation.adl',
        { owner: id.owner, number: id.number, counterparty_owner: cp.owner, counterparty_number: cp.number, market_id: marketId, size: q, price, at_oracle: atOracle },
        ['owner', 'counterparty_owner', 'market_id'],
      );
      // Closed at the oracle, this slice left its share of the deficit (its bankruptcy quote minus what it
      // got) with the account: written off now (fund, then bad debt), or the rest of the position's
      // bankruptcy price would worsen by it and the next counterparty deleveraged would pay it.
      if (atOracle) this.writeOff(ctx, id, marketId, insuranceNeed(plan, planSize, q, price, pos.e, side));
      return true;
    };
    /** Walk the ranking: at most max_adl_candidates counterparties that still hold the opposite side, never the account itself. */
    const walk = (price: bigint, checkSolvency: boolean, atOracle: boolean): void => {
      let considered = 0;
      for (const cp of ranked) {
        if (considered >= p.maxAdlCandidates || remaining <= 0n || adl.fills >= p.maxAdlFillsPerBlock) return;
        if (cp.key === selfKey) continue;
        // the counterparty as it is now: skipped once it no longer holds the opposite side
        const now = subaccounts.get(ctx.store, cp);
        const held = now.positions.find((x) => x.marketId === marketId);
        if (!held || (held.size > 0n ? 1n : -1n) !== sign) continue;
        considered++;
        if (subaccounts.risk(ctx.store, now).nc <= 0n) continue; // insolvent now: being liquidated itself
        if (!fillAt(cp, held.size, price, checkSolvency, atOracle)) return;
      }
    };
    walk(bp, true, false);
    // ADL exhausted at the bankruptcy price: the rest at the oracle price
    if (remaining > 0n && adl.fills < p.maxAdlFillsPerBlock) walk(pos.price, false, true);
  }

  /**
   * Opposite-side holders of a market ranked by unrealised PnL × leverage
   * (PnL of that position; leverage = account notional / NC), highest first,
   * ties by PnL then key. Accounts with NC ≤ 0 are not counterparties (they
   * are being liquidated themselves); losing positions rank after profitable
   * ones. Computed from the liquidation index's evaluations (no store reads),
   * exactly, in 10^-24 uusdc: value = 10^6·size·base, NC = K + Σ size·(G + MMF·base)
   * (see risk-index.ts), so the cost is a few bigint products per holder.
   */
  rankCounterparties(store: KVReader, marketId: number, sign: bigint): RankedCounterparty[] {
    const coords = this.coords(store);
    const c = coords.get(marketId);
    if (!c) return [];
    const ranked: Array<{ cp: RankedCounterparty; q: bigint; num: bigint }> = [];
    for (const key of this.index.holdersOf(marketId)) {
      const a = this.index.get(key);
      const p = a?.positions.find((x) => x.marketId === marketId);
      if (!a || !p || (p.size > 0n ? 1n : -1n) !== sign) continue;
      let nc = a.k;
      let notional = 0n;
      for (const x of a.positions) {
        const cx = coords.get(x.marketId)!;
        nc += x.size * (cx.g + cx.mmf * cx.base);
        notional += abs(x.size) * cx.base;
      }
      if (nc <= 0n) continue;
      notional *= M6;
      const pnl = M6 * p.size * c.base - E24 * p.costBasis;
      const num = (pnl > 0n ? pnl : 0n) * notional;
      const [owner, number] = splitKey(key);
      // ⌊score · 2^32⌋ orders almost every pair with one bigint comparison; equal ones are compared exactly
      ranked.push({ cp: { key, owner, number, size: p.size, pnl, notional, nc }, q: (num << 32n) / nc, num });
    }
    ranked.sort((a, b) => {
      if (a.q !== b.q) return a.q > b.q ? -1 : 1;
      const l = a.num * b.cp.nc;
      const r = b.num * a.cp.nc;
      if (l !== r) return l > r ? -1 : 1;
      if (a.cp.pnl !== b.cp.pnl) return a.cp.pnl > b.cp.pnl ? -1 : 1;
      return a.cp.key < b.cp.key ? -1 : 1;
    });
    return ranked.map((x) => x.cp);
  }

  /** A deficit of an account taken over: the insurance fund pays what it can, the rest is recorded as bad debt. */
  private writeOff(ctx: Ctx, id: SubaccountId, marketId: number, owed: bigint): void {
    if (owed <= 0n) return;
    const { subaccounts } = this.d;
    const sub = subaccounts.get(ctx.store, id);
    const fund = this.insuranceFund(ctx.store);
    const paid = fund < owed ? fund : owed;
    if (paid > 0n) subaccounts.chargeToModule(ctx, sub, -paid, this.d.insuranceFund, 'insurance covers deficit');
    const bad = owed - paid;
    if (bad > 0n) subaccounts.recordBadDebt(ctx, sub, marketId, bad);
    subaccounts.save(ctx.store, sub, ctx.journal);
    if (bad > 0n) ctx.events.emit('liquidation.bad_debt', { owner: sub.owner, number: sub.number, market_id: marketId, amount: bad, insurance_paid: paid }, ['owner', 'market_id']);
    else ctx.events.emit('liquidation.insurance_cover', { owner: sub.owner, number: sub.number, market_id: marketId, amount: paid }, ['owner']);
  }

  /** An account left with no positions and negative collateral: the insurance fund covers what it can, the rest is bad debt. */
  private coverNegativeCollateral(ctx: Ctx, sub: Subaccount, marketId: number | undefined): void {
    if (sub.positions.length > 0 || sub.collateral >= 0n) return;
    this.writeOff(ctx, { owner: sub.owner, number: sub.number }, marketId ?? 0, -sub.collateral);
  }

}

/** One endBlock's ADL state: fills so far and the rankings computed in it (per market and side). */
interface AdlBudget {
  fills: number;
  rankings: Map<string, RankedCounterparty[]>;
}

export interface RankedCounterparty {
  key: string;
  owner: string;
  number: number;
  /** Size when ranked; fills read the current size. */
  size: bigint;
  /** PnL of the position, the account's notional and NC when ranked, exact, in 10^-24 uusdc. */
  pnl: bigint;
  notional: bigint;
  nc: bigint;
}

const M6 = 1_000_000n;

const RATIO_CLAMP = 2n ** 52n;

/**
 * A liquidatable account as detect() found it: a slot of the index (whose
 * key never changes) and its order key. The key string is read on demand:
 * a block processes at most 4 × the per-block cap of them, and at a million
 * accounts each is cold memory.
 */
class Flagged implements FlaggedAccount {
  constructor(
    /** The index's slot → key table when detected (not the index: a reload, index.clear(), must not re-map the slot). */
    private readonly keys: readonly string[],
    private readonly slot: number,
    readonly ratioPpm: number,
    /** keyPrefix(key): sorting by it first orders most ties without reading the key. */
    readonly tie: number,
  ) {}
  get key(): string {
    return this.keys[this.slot]!;
  }
  get owner(): string {
    return splitKey(this.key)[0];
  }
  get number(): number {
    return splitKey(this.key)[1];
  }
}

/**
 * One Flagged kept for the life of the process. V8 holds an object shape only
 * weakly once no object has it, and drops the optimised code that checks it
 * when the shape is collected: without this, the first garbage collection
 * after a block that flagged no one would throw away the optimised detection
 * path, and the next crash block would run it unoptimised (measured: about
 * twice as slow). Non-integer numbers fix the fields' representation as
 * doubles from the start, so later objects never move to a new shape.
 */
export const FLAGGED_SHAPE_ANCHOR: FlaggedAccount = new Flagged([], 0, 0.5, 0.5);

interface Orderable {
  ratioPpm: number;
  tie: number;
  key: string;
}

/** Quickselect rounds before selectSmallest() sorts what is left instead (≈ 2·log₂ of a million). */
const SELECT_ROUNDS = 64;

const byTieThenKey = (x: Orderable, y: Orderable): number => x.tie - y.tie || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
const byRatioTieThenKey = (x: Orderable, y: Orderable): number => x.ratioPpm - y.ratioPpm || byTieThenKey(x, y);

/**
 * Sort by (ratioPpm, key). The ratios are sorted natively as packed numbers
 * ((ratioPpm + 2^31) · 2^20 + position, exact below 2^52) and only runs of
 * equal ratios go through a comparator; when the packing does not fit, one
 * comparator sort does it all. Same result either way.
 *
 * With `head` below the count, only the first `head` places are ordered and
 * the rest follow in no particular order: the smallest packed keys are
 * selected first (plus every other account with the same ratio as the last
 * of them, which the key may put ahead of it) and only those are sorted. A
 * block processes at most a few times its cap of accounts, so after a big
 * move this skips sorting the thousands behind them.
 */
export function liquidationOrder<T extends Orderable>(flagged: T[], head = Infinity): T[] {
  const packed = packRatios(flagged);
  if (!packed) return flagged.sort(byRatioTieThenKey);
  const n = flagged.length;
  const sorted = head < n ? selectHead(packed, head) : n;
  packed.subarray(0, sorted).sort();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(flagged[packed[i]! % 2 ** 20]!);
  orderTies(out, sorted);
  return out;
}

// The steps are small functions of one loop each: V8 optimises them as whole functions, where one function of
// several long loops runs as on-stack-replaced code, which a garbage collection can throw away.

/** (ratioPpm + 2^31) · 2^20 + position per account, or undefined when that does not fit 2^52. */
function packRatios(flagged: readonly Orderable[]): Float64Array | undefined {
  const n = flagged.length;
  if (n >= 2 ** 20) return undefined;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = flagged[i]!.ratioPpm;
    if (!(r >= -(2 ** 31) && r < 2 ** 31)) return undefined;
    packed[i] = (r + 2 ** 31) * 2 ** 20 + i;
  }
  return packed;
}

/**
 * Move the `head` smallest packed keys to the front, then every other key
 * with the same ratio as the largest of them (the key may put one of those
 * ahead of it); returns how many are in front.
 */
function selectHead(packed: Float64Array, head: number): number {
  selectSmallest(packed, head);
  let max = -Infinity;
  for (let i = 0; i < head; i++) if (packed[i]! > max) max = packed[i]!;
  const lastRatio = Math.floor(max / 2 ** 20);
  let front = head;
  for (let i = head; i < packed.length; i++) {
    if (Math.floor(packed[i]! / 2 ** 20) === lastRatio) {
      const v = packed[i]!;
      packed[i] = packed[front]!;
      packed[front++] = v;
    }
  }
  return front;
}

/** Sort each run of equal ratios among the first `end` places by key. */
function orderTies(out: Orderable[], end: number): void {
  for (let i = 0; i < end; ) {
    let j = i + 1;
    while (j < end && out[j]!.ratioPpm === out[i]!.ratioPpm) j++;
    if (j - i > 1) {
      const run = out.slice(i, j).sort(byTieThenKey);
      for (let q = 0; q < run.length; q++) out[i + q] = run[q]!;
    }
    i = j;
  }
}

/**
 * Rearrange `a` (distinct values) so that its k smallest come first, in no
 * particular order: quickselect with a median-of-three pivot, O(n) on
 * average. Deterministic: the same input gives the same arrangement. Inputs
 * that defeat the pivot choice (the accounts' ratios are in users' hands)
 * fall back to a full sort after 64 rounds, so the worst case is n·log n.
 */
function selectSmallest(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  for (let round = 0; hi > lo && k > lo && k <= hi; round++) {
    if (round === SELECT_ROUNDS) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // now a[lo..j] ≤ pivot ≤ a[i..hi] (and a[j+1..i-1] = pivot)
    if (k <= j + 1) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

export interface BankruptcyPlan {
  /** Quote (uusdc, signed: + received when selling, − paid when buying) at which closing the portion leaves its share of equity at zero; rounded down. */
  quote: bigint;
  /** Bankruptcy price as a fraction priceNum/priceDen in price units. */
  priceNum: bigint;
  priceDen: bigint;
}

/**
 * Bankruptcy quote of closing `portion` of position i: the value at the
 * oracle minus the account's net collateral apportioned by the share of MMR
 * the portion carries:
 *   BQ = ±|Δ|·p·k − NC·|Δ|·p·k·m / (10^6·MMR)
 * i.e. bankruptcy price = p·(1 ∓ NC·m / (10^6·MMR)) (sell: −, buy: +).
 */
export function bankruptcy(r: AccountRisk, i: number, portion: bigint): BankruptcyPlan {
  const pos = r.positions[i]!;
  const e = pos.e;
  const m = pos.mmfPpm;
  const mmr = r.mmr;
  const sell = pos.size > 0n;
  const pow = 10n ** BigInt(e >= 0 ? e : -e);
  // bankruptcy price = price · (10^6·MMR ∓ NC·m) / (10^6·MMR); quote = |Δ| · that · k
  const factor = sell ? PPM * mmr - r.nc * m : PPM * mmr + r.nc * m;
  const den = PPM * mmr;
  const n = portion * pos.price * factor * (e >= 0 ? pow : 1n);
  const d = den * (e >= 0 ? 1n : pow);
  // rounded down: the account is owed no more than this when selling, owes no less when buying
  return { quote: sell ? floorDiv(n, d) : -ceilDiv(n, d), priceNum: pos.price * factor, priceDen: den };
}

/** Insurance the fund pays for filling q of the portion at px (0 when px is at or better than bankruptcy). */
function insuranceNeed(plan: BankruptcyPlan, portion: bigint, q: bigint, px: bigint, e: number, side: 'buy' | 'sell'): bigint {
  if (q <= 0n) return 0n;
  const bq = floorDiv(plan.quote * q, portion);
  const t = tradeQuote(q, px, e);
  const received = side === 'sell' ? t.sellerGets : -t.buyerPays;
  const d = received - bq;
  return d < 0n ? -d : 0n;
}

/**
 * Fillable price of a liquidation order: oracle ∓ spread, spread =
 * spread_to_mmf · MMF · ABR, ABR = clamp(1 − NC/MMR, 0, 1) (ppm). A barely
 * liquidatable account trades near the oracle, a bankrupt one up to the full
 * spread away.
 */
export function fillablePrice(r: AccountRisk, price: bigint, mmf: bigint, spreadToMmf: bigint, side: 'buy' | 'sell'): bigint {
  const abr = r.mmr === 0n ? 0n : clamp(PPM - floorDiv(r.nc * PPM, r.mmr), 0n, PPM);
  const spread = (spreadToMmf * mmf * abr) / (PPM * PPM); // ppm
  return side === 'sell' ? ceilDiv(price * (PPM - (spread > PPM ? PPM : spread)), PPM) : floorDiv(price * (PPM + spread), PPM);
}

/** A price (optionally a fraction num/den) on the tick grid, rounded in the liquidated account's favour: sells up, buys down. */
export function roundToTick(num: bigint, tick: bigint, side: 'buy' | 'sell', den = 1n): bigint {
  const t = side === 'sell' ? ceilDiv(num, den * tick) : floorDiv(num, den * tick);
  const v = t * tick;
  return v > 0n ? v : tick;
}

function avgPrice(fills: Array<{ price: bigint; size: bigint }>): bigint {
  let n = 0n;
  let q = 0n;
  for (const f of fills) {
    n += f.price * f.size;
    q += f.size;
  }
  return q === 0n ? 0n : n / q;
}
