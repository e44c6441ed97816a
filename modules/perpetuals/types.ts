import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';

export type MarketStatus = 'active' | 'reduce_only' | 'halted';
const STATUS = perpchain.perpetuals.v1.MarketStatus;
const statusToProto: Record<MarketStatus, number> = { active: STATUS.MARKET_STATUS_ACTIVE, reduce_only: STATUS.MARKET_STATUS_REDUCE_ONLY, halted: STATUS.MARKET_STATUS_HALTED };

export function statusFromProto(s: number | null | undefined): MarketStatus | undefined {
  return s === STATUS.MARKET_STATUS_ACTIVE ? 'active' : s === STATUS.MARKET_STATUS_REDUCE_ONLY ? 'reduce_only' : s === STATUS.MARKET_STATUS_HALTED ? 'halted' : undefined;
}

export interface Market {
  id: number;
  ticker: string;
  status: MarketStatus;
  atomicResolution: number;
  priceExponent: number;
  tickSize: bigint;
  stepSize: bigint;
  minOrderSize: bigint;
  initialMarginPpm: bigint;
  maintenanceMarginPpm: bigint;
  oiLowerCap: bigint;
  oiUpperCap: bigint;
  maxOpenInterest: bigint;
  interestRatePpm: bigint;
  fundingRateCapPpm: bigint;
  impactNotional: bigint;
}

export interface MarketState {
  id: number;
  fundingIndex: bigint;
  openInterest: bigint;
  premiumSum: bigint;
  premiumSamples: number;
  lastFundingTime: bigint;
  lastFundingRatePpm: bigint;
}

export interface PerpetualsParams {
  authority: string;
  fundingIntervalSeconds: bigint;
}

const M = perpchain.perpetuals.v1.Market;
const S = perpchain.perpetuals.v1.MarketState;
const P = perpchain.perpetuals.v1.Params;

export function marketToProto(m: Market): perpchain.perpetuals.v1.IMarket {
  return {
    id: m.id,
    ticker: m.ticker,
    status: statusToProto[m.status],
    atomicResolution: m.atomicResolution,
    priceExponent: m.priceExponent,
    tickSize: toLong(m.tickSize),
    stepSize: toLong(m.stepSize),
    minOrderSize: toLong(m.minOrderSize),
    initialMarginPpm: Number(m.initialMarginPpm),
    maintenanceMarginPpm: Number(m.maintenanceMarginPpm),
    oiLowerCap: m.oiLowerCap.toString(),
    oiUpperCap: m.oiUpperCap.toString(),
    maxOpenInterest: toLong(m.maxOpenInterest),
    interestRatePpm: Number(m.interestRatePpm),
    fundingRateCapPpm: Number(m.fundingRateCapPpm),
    impactNotional: m.impactNotional.toString(),
  };
}

/** Proto → Market; undefined status and malformed numbers are left for validation to report. */
export function marketFromProto(p: perpchain.perpetuals.v1.IMarket): Market & { statusRaw: number } {
  const big = (s: string | null | undefined) => (s && /^-?[0-9]{1,40}$/.test(s) ? BigInt(s) : -1n);
  return {
    id: p.id ?? 0,
    ticker: p.ticker ?? '',
    status: statusFromProto(p.status) ?? 'active',
    statusRaw: p.status ?? 0,
    atomicResolution: p.atomicResolution ?? 0,
    priceExponent: p.priceExponent ?? 0,
    tickSize: toBigInt(p.tickSize),
    stepSize: toBigInt(p.stepSize),
    minOrderSize: toBigInt(p.minOrderSize),
    initialMarginPpm: BigInt(p.initialMarginPpm ?? 0),
    maintenanceMarginPpm: BigInt(p.maintenanceMarginPpm ?? 0),
    oiLowerCap: p.oiLowerCap ? big(p.oiLowerCap) : 0n,
    oiUpperCap: p.oiUpperCap ? big(p.oiUpperCap) : 0n,
    maxOpenInterest: toBigInt(p.maxOpenInterest),
    interestRatePpm: BigInt(p.interestRatePpm ?? 0),
    fundingRateCapPpm: BigInt(p.fundingRateCapPpm ?? 0),
    impactNotional: p.impactNotional ? big(p.impactNotional) : 0n,
  };
}

export function encodeMarket(m: Market): Uint8Array {
  return M.encode(marketToProto(m)).finish();
}

export function decodeMarket(b: Uint8Array): Market {
  const { statusRaw: _s, ...m } = marketFromProto(M.decode(b));
  return m;
}

export function encodeMarketState(s: MarketState): Uint8Array {
  return S.encode({
    id: s.id,
    fundingIndex: s.fundingIndex.toString(),
    openInterest: s.openInterest.toString(),
    premiumSum: toLong(s.premiumSum),
    premiumSamples: s.premiumSamples,
    lastFundingTime: toLong(s.lastFundingTime),
    lastFundingRatePpm: Number(s.lastFundingRatePpm),
  }).finish();
}

export function decodeMarketState(b: Uint8Array): MarketState {
  const m = S.decode(b);
  return {
    id: m.id,
    fundingIndex: BigInt(m.fundingIndex || '0'),
    openInterest: BigInt(m.openInterest || '0'),
    premiumSum: toBigInt(m.premiumSum),
    premiumSamples: m.premiumSamples,
    lastFundingTime: toBigInt(m.lastFundingTime),
    lastFundingRatePpm: BigInt(m.lastFundingRatePpm),
  };
}

export function encodeParams(p: PerpetualsParams): Uint8Array {
  return P.encode({ authority: p.authority, fundingIntervalSeconds: Number(p.fundingIntervalSeconds) }).finish();
}

export function decodeParams(b: Uint8Array): PerpetualsParams {
  const m = P.decode(b);
  return { authority: m.authority, fundingIntervalSeconds: BigInt(m.fundingIntervalSeconds) };
}

export function marketJson(m: Market) {
  return {
    id: m.id,
    ticker: m.ticker,
    status: m.status,
    atomic_resolution: m.atomicResolution,
    price_exponent: m.priceExponent,
    tick_size: m.tickSize.toString(),
    step_size: m.stepSize.toString(),
    min_order_size: m.minOrderSize.toString(),
    initial_margin_ppm: m.initialMarginPpm.toString(),
    maintenance_margin_ppm: m.maintenanceMarginPpm.toString(),
    oi_lower_cap: m.oiLowerCap.toString(),
    oi_upper_cap: m.oiUpperCap.toString(),
    max_open_interest: m.maxOpenInterest.toString(),
    interest_rate_ppm: m.interestRatePpm.toString(),
    funding_rate_cap_ppm: m.fundingRateCapPpm.toString(),
    impact_notional: m.impactNotional.toString(),
  };
}
