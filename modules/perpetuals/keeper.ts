import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { addressProblem } from '../../chain/codec/address.js';
import { clamp, pow10, PPM, truncDiv } from '../../chain/math/int.js';
import { notional, quoteExponent, scaledImf } from '../subaccounts/index.js';
import { ErrDuplicateMarket, ErrImmutableField, ErrInvalidMarketParams, ErrInvalidParams, ErrUnknownMarket } from './errors.js';
import type { PremiumSource, PriceKeeper } from './expected-keepers.js';
import { MARKET_TABLE, marketKey, PARAMS_KEY, stateKey } from './keys.js';
import { decodeMarket, decodeMarketState, decodeParams, encodeMarket, encodeMarketState, encodeParams, statusFromProto, type Market, type MarketState, type PerpetualsParams } from './types.js';
import { DecodeCache } from '../../chain/store/decode-cache.js';

const marketCache = new DecodeCache(decodeMarket);
const stateCache = new DecodeCache(decodeMarketState);
/** marketInfo's result per decoded market object (the decode cache hands out one object per stored value). */
const marketInfos = new WeakMap<Market, Readonly<Market & { quoteExponent: number }>>();

export const DEFAULT_PERPETUALS_PARAMS: PerpetualsParams = { authority: '', fundingIntervalSeconds: 3600n };
const MAX_TICKER = 20;
/** Funding index unit: 10^-18 uusdc per base quantum (see subaccounts/margin.ts). */
const FUNDING_INDEX_EXP = 18;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;

type StoreCtx = Pick<Ctx, 'store' | 'events' | 'height' | 'timeSec'>;

/** Validate market parameters; throws ErrInvalidMarketParams naming the field. */
export function validateMarket(m: Market & { statusRaw?: number }): void {
  const bad = (msg: string) => {
    throw ErrInvalidMarketParams(`market ${m.id} (${m.ticker || 'no ticker'}): ${msg}`);
  };
  if (!Number.isInteger(m.id) || m.id < 0 || m.id > 0xffff_ffff) bad('id must be a 32-bit unsigned integer');
  if (!/^[A-Z0-9]{1,12}-[A-Z]{1,6}$/.test(m.ticker) || m.ticker.length > MAX_TICKER) bad(`ticker "${m.ticker}" must look like BTC-USD`);
  if (m.statusRaw === 0) bad('status must be set (active, reduce_only or halted)');
  if (m.atomicResolution < -18 || m.atomicResolution > 6) bad('atomic_resolution must be in [-18, 6]');
  if (m.priceExponent < -18 || m.priceExponent > 6) bad('price_exponent must be in [-18, 6]');
  const e = quoteExponent(m);
  // below −18 the liquidation index (which prices every market every block) has no exact form: such a market would halt the chain
  if (e < -18 || e > 18) bad(`atomic_resolution + price_exponent + 6 = ${e} is out of range [-18, 18]`);
  if (m.tickSize <= 0n || m.tickSize > SAFE) bad('tick_size must be in [1, 2^53 - 1]');
  if (m.stepSize <= 0n || m.stepSize > SAFE) bad('step_size must be in [1, 2^53 - 1]');
  if (m.minOrderSize < m.stepSize || m.minOrderSize > SAFE || m.minOrderSize % m.stepSize !== 0n) bad('min_order_size must be a positive multiple of step_size, at most 2^53 - 1');
  if (m.initialMarginPpm <= 0n || m.initialMarginPpm > PPM) bad(`initial_margin_ppm ${m.initialMarginPpm} must be in (0, 1,000,000]`);
  if (m.maintenanceMarginPpm <= 0n || m.maintenanceMarginPpm >= m.initialMarginPpm) bad(`maintenance_margin_ppm ${m.maintenanceMarginPpm} must be positive and below initial_margin_ppm ${m.initialMarginPpm}`);
  if (m.oiLowerCap < 0n || m.oiUpperCap < 0n || m.oiLowerCap > U64_MAX || m.oiUpperCap > U64_MAX) bad('open interest caps must be integers in [0, 2^64 - 1]');
  if (!(m.oiLowerCap === 0n && m.oiUpperCap === 0n) && m.oiUpperCap <= m.oiLowerCap) bad('oi_upper_cap must exceed oi_lower_cap (or both 0 to disable)');
  if (m.maxOpenInterest < 0n || m.maxOpenInterest > U64_MAX) bad('max_open_interest must be in [0, 2^64 - 1]');
  if (m.fundingRateCapPpm < 0n || m.fundingRateCapPpm > PPM) bad('funding_rate_cap_ppm must be in [0, 1,000,000]');
  if (m.interestRatePpm > m.fundingRateCapPpm || -m.interestRatePpm > m.fundingRateCapPpm) bad('|interest_rate_ppm| must not exceed funding_rate_cap_ppm');
  if (m.impactNotional <= 0n || m.impactNotional > U64_MAX) bad('impact_notional must be a positive uusdc amount below 2^64');
  if (m.statusRaw !== undefined && m.statusRaw !== 0 && statusFromProto(m.statusRaw) === undefined) bad(`status ${m.statusRaw} is not a market status (1 active, 2 reduce_only, 3 halted)`);
}

export function validatePerpetualsParams(p: PerpetualsParams, o: { authorityRequired?: boolean } = {}): void {
  // a genesis without markets may leave the authority unset (no one can then create one); the interval is always checked,
  // since every funding tick divides by it
  if (p.fundingIntervalSeconds < 1n || p.fundingIntervalSeconds > 86_400n * 7n) throw ErrInvalidParams('funding_interval_seconds must be in [1, 604800]');
  if (o.authorityRequired === false && p.authority === '') return;
  const a = addressProblem(p.authority);
  if (a) throw ErrInvalidParams(`authority: ${a}`);
}

/**
 * Markets, open interest and funding. Funding: every block samples a premium
 * per market from the PremiumSource; every funding interval (block time) the
 * rate = clamp(mean premium + interest, ±cap) moves the market's cumulative
 * funding index by rate · price · 10^(e + 12) (10^-18 uusdc per quantum).
 * Positions settle lazily against the index (subaccounts).
 */
export class PerpetualsKeeper {
  private premium: PremiumSource | undefined;

  constructor(private readonly prices: PriceKeeper) {}

  setPremiumSource(src: PremiumSource): void {
    this.premium = src;
  }

  getParams(store: KVReader): PerpetualsParams {
    const b = store.get(PARAMS_KEY);
    return b ? decodeParams(b) : DEFAULT_PERPETUALS_PARAMS;
  }

  setParams(store: KVStore, p: PerpetualsParams): void {
    store.set(PARAMS_KEY, encodeParams(p));
  }

  getMarket(store: KVReader, id: number): Market | undefined {
    const b = store.get(marketKey(id));
    return b ? marketCache.get(b) : undefined;
  }

  market(store: KVReader, id: number): Market {
    const m = this.getMarket(store, id);
    if (!m) throw ErrUnknownMarket(`no market with id ${id}`);
    return m;
  }

  /**
   * The market with its quote exponent (what the order book needs): one frozen object per decoded
   * market, reused while the stored market is unchanged, instead of a spread per order (a spread
   * that adds a property takes V8's slow path).
   */
  marketInfo(store: KVReader, id: number): Readonly<Market & { quoteExponent: number }> {
    const m = this.market(store, id);
    let info = marketInfos.get(m);
    if (!info) {
      info = Object.freeze({ ...m, quoteExponent: quoteExponent(m) });
      marketInfos.set(m, info);
    }
    return info;
  }

  openInterest(store: KVReader, id: number): bigint {
    const b = store.get(stateKey(id));
    if (!b) throw ErrUnknownMarket(`no market with id ${id}`);
    return stateCache.get(b).openInterest;
  }

  markets(store: KVReader): Market[] {
    return store.scanTable(MARKET_TABLE).map(([, v]) => marketCache.get(v));
  }

  getState(store: KVReader, id: number): MarketState {
    const b = store.get(stateKey(id));
    if (!b) throw ErrUnknownMarket(`no market with id ${id}`);
    return { ...stateCache.get(b) };
  }

  private setState(store: KVStore, s: MarketState): void {
    store.set(stateKey(s.id), encodeMarketState(s));
  }

  createMarket(ctx: StoreCtx, m: Market, initialPrice: bigint | undefined): void {
    validateMarket(m);
    if (this.getMarket(ctx.store, m.id)) throw ErrDuplicateMarket(`market ${m.id} exists`);
    if (this.markets(ctx.store).some((x) => x.ticker === m.ticker)) throw ErrDuplicateMarket(`ticker ${m.ticker} is taken`);
    if (initialPrice !== undefined) this.prices.createMarketPrice(ctx, m.id, initialPrice);
    else if (!this.prices.getPrice(ctx.store, m.id)) throw ErrInvalidMarketParams(`market ${m.id} has no oracle price`);
    ctx.store.set(marketKey(m.id), encodeMarket(m));
    this.setState(ctx.store, { id: m.id, fundingIndex: 0n, openInterest: 0n, premiumSum: 0n, premiumSamples: 0, lastFundingTime: ctx.timeSec, lastFundingRatePpm: 0n });
    ctx.events.emit('perpetuals.market_created', { market_id: m.id, ticker: m.ticker, status: m.status }, ['market_id']);
  }

  updateMarket(ctx: StoreCtx, m: Market): void {
    validateMarket(m);
    const cur = this.market(ctx.store, m.id);
    if (cur.atomicResolution !== m.atomicResolution || cur.priceExponent !== m.priceExponent || cur.ticker !== m.ticker) {
      throw ErrImmutableField('ticker, atomic_resolution and price_exponent are fixed at creation');
    }
    ctx.store.set(marketKey(m.id), encodeMarket(m));
    ctx.events.emit('perpetuals.market_updated', { market_id: m.id, ticker: m.ticker, status: m.status }, ['market_id']);
  }

  /** Change open interest by `delta` base quantums (called by subaccounts when long sizes change). */
  addOpenInterest(store: KVStore, id: number, delta: bigint): void {
    if (delta === 0n) return;
    const s = this.getState(store, id);
    s.openInterest += delta;
    this.setState(store, s);
  }

  fundingIndex(store: KVReader, id: number): bigint {
    const b = store.get(stateKey(id));
    if (!b) throw ErrUnknownMarket(`no market with id ${id}`);
    return stateCache.get(b).fundingIndex;
  }

  /** IMF after open-interest scaling, at the current oracle price. */
  effectiveImf(store: KVReader, m: Market, price: bigint): bigint {
    if (m.oiUpperCap === 0n) return m.initialMarginPpm;
    const oi = notional(this.getState(store, m.id).openInterest, price, quoteExponent(m));
    return scaledImf(m.initialMarginPpm, oi, m.oiLowerCap, m.oiUpperCap);
  }

  /** Premium of one sample, ppm of the oracle price, rounded toward zero. */
  premiumPpm(store: KVReader, m: Market, price: bigint): bigint {
    if (!this.premium) return 0n;
    const { bid, ask } = this.premium.impactPrices(store, m.id, m.impactNotional);
    let diff = 0n;
    if (bid !== undefined && bid > price) diff += bid - price;
    if (ask !== undefined && ask < price) diff -= price - ask;
    return truncDiv(diff * PPM, price);
  }

  /** Every block: a premium sample per market; at an interval boundary, the funding tick. */
  endBlock(ctx: StoreCtx): void {
    const interval = this.getParams(ctx.store).fundingIntervalSeconds;
    for (const m of this.markets(ctx.store)) {
      const price = this.prices.price(ctx.store, m.id);
      const s = this.getState(ctx.store, m.id);
      if (m.status === 'halted') {
        // A halted market accrues no funding: its book is frozen (a stale premium) and no order, not even a
        // reduce-only one, can close a position. Its interval starts again when it resumes.
        s.premiumSum = 0n;
        s.premiumSamples = 0;
        s.lastFundingTime = ctx.timeSec;
        this.setState(ctx.store, s);
        continue;
      }
      // Each sample is clamped to the rate cap: unclamped, one block's far-off bid (a one-block order costs
      // almost nothing) set the mean, and so the interval's rate, to the cap, and a sum of such samples
      // could outgrow its 64-bit field.
      const sample = clamp(this.premiumPpm(ctx.store, m, price), -m.fundingRateCapPpm, m.fundingRateCapPpm);
      s.premiumSum += sample;
      s.premiumSamples += 1;
      if (ctx.timeSec / interval > s.lastFundingTime / interval) {
        const premium = s.premiumSamples > 0 ? truncDiv(s.premiumSum, BigInt(s.premiumSamples)) : 0n;
        const rate = clamp(premium + m.interestRatePpm, -m.fundingRateCapPpm, m.fundingRateCapPpm);
        const delta = fundingIndexDelta(rate, price, quoteExponent(m));
        s.fundingIndex += delta;
        s.premiumSum = 0n;
        s.premiumSamples = 0;
        s.lastFundingTime = ctx.timeSec;
        s.lastFundingRatePpm = rate;
        ctx.events.emit(
          'perpetuals.funding',
          { market_id: m.id, rate_ppm: rate, premium_ppm: premium, oracle_price: price, funding_index: s.fundingIndex, index_delta: delta },
          ['market_id'],
        );
      }
      this.setState(ctx.store, s);
    }
  }
}

/**
 * Index change for a funding rate (ppm per interval) at an oracle price:
 * rate/10^6 · price · 10^e uusdc per quantum, in 10^-18 units:
 * rate · price · 10^(e + 12), truncated toward zero when e + 12 < 0. Longs and
 * shorts use the same index, so the index itself is exactly zero-sum.
 */
export function fundingIndexDelta(ratePpm: bigint, price: bigint, e: number): bigint {
  const exp = e + FUNDING_INDEX_EXP - 6;
  return exp >= 0 ? ratePpm * price * pow10(exp) : truncDiv(ratePpm * price, pow10(-exp));
}
