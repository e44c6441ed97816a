/**
 * Human decimals ↔ the chain's integers, exactly (decimal.js, never floats).
 *
 *   price units = price in USD per whole coin · 10^(−price_exponent)
 *                 (BTC-USD: exponent −5, so $65,000.5 = 6,500,050,000; tick 100,000 = $1)
 *   quantums    = size in coins · 10^(−atomic_resolution)
 *                 (BTC-USD: resolution −10, so 0.001 BTC = 10,000,000; step 100,000 = 0.00001 BTC)
 *
 * A value that is not an exact multiple of the market's tick (price) or
 * step (size), or that is below the minimum order size, is refused with a
 * UnitsError saying the nearest valid values; nothing is rounded silently.
 */
import { Decimal } from 'decimal.js';
import type { MarketJson } from './protocol.js';

/** A Decimal constructor with room for any on-chain integer (no rounding in conversions). */
export const D = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_DOWN, toExpNeg: -40, toExpPos: 60 });
export type DecimalInput = Decimal.Value | Decimal;

export interface MarketSpec {
  id: number;
  ticker: string;
  atomicResolution: number;
  priceExponent: number;
  tickSize: bigint;
  stepSize: bigint;
  minOrderSize: bigint;
}

export class UnitsError extends Error {
  override readonly name = 'UnitsError';
}

export function marketSpec(m: Pick<MarketJson, 'id' | 'ticker' | 'atomic_resolution' | 'price_exponent' | 'tick_size' | 'step_size' | 'min_order_size'>): MarketSpec {
  return {
    id: m.id,
    ticker: m.ticker,
    atomicResolution: m.atomic_resolution,
    priceExponent: m.price_exponent,
    tickSize: BigInt(m.tick_size),
    stepSize: BigInt(m.step_size),
    minOrderSize: BigInt(m.min_order_size),
  };
}

/** Plain decimal text: digits with an optional sign, point and exponent (not 0x…/0b…/0o…, which decimal.js would read). */
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toDecimal(v: DecimalInput, what: string): Decimal {
  if (typeof v === 'string' && !DECIMAL_TEXT.test(v.trim())) throw new UnitsError(`${what} ${JSON.stringify(v)} is not a decimal number`);
  // more significant digits than the arithmetic keeps would be rounded without a word
  if (typeof v === 'string' && v.replace(/e.*$/i, '').replace(/[^0-9]/g, '').replace(/^0+/, '').length > 60) throw new UnitsError(`${what} ${JSON.stringify(v.slice(0, 40) + '…')} has more than 60 significant digits`);
  let d: Decimal;
  try {
    d = v instanceof Decimal ? new D(v.toString()) : new D(v as Decimal.Value);
  } catch {
    throw new UnitsError(`${what} ${JSON.stringify(String(v))} is not a number`);
  }
  if (!d.isFinite()) throw new UnitsError(`${what} must be finite, got ${String(v)}`);
  return d;
}

/** An exact decimal shifted by 10^k into an integer, or undefined if it has a fraction left. */
function shiftToInteger(d: Decimal, k: number): bigint | undefined {
  const s = d.times(new D(10).pow(k));
  if (!s.isInteger()) return undefined;
  return BigInt(s.toFixed(0));
}

/** The valid values either side of a value off the grid (0, below the first step, is not one). */
function nearest(floor: Decimal, step: string): string {
  const up = floor.plus(step).toString();
  return floor.isZero() ? `nearest: ${up}` : `nearest: ${floor.toString()} or ${up}`;
}

/** Human price (USD per coin) → price units; must be positive and a multiple of the tick. */
export function priceToUnits(m: MarketSpec, price: DecimalInput): bigint {
  const d = toDecimal(price, 'price');
  if (d.lte(0)) throw new UnitsError(`price must be positive, got ${d.toString()}`);
  const units = shiftToInteger(d, -m.priceExponent);
  const tick = unitsToPrice(m, m.tickSize).toString();
  if (units === undefined || units % m.tickSize !== 0n) {
    const floor = d.div(tick).floor().times(tick);
    throw new UnitsError(`price ${d.toString()} is not a multiple of ${m.ticker}'s tick ${tick}; ${nearest(floor, tick)}`);
  }
  return units;
}

/** Human size (coins) → base quantums; must be a multiple of the step and at least the minimum order size. */
export function sizeToQuantums(m: MarketSpec, size: DecimalInput, o: { allowBelowMinimum?: boolean } = {}): bigint {
  const d = toDecimal(size, 'size');
  if (d.lte(0)) throw new UnitsError(`size must be positive, got ${d.toString()}`);
  const q = shiftToInteger(d, -m.atomicResolution);
  const step = quantumsToSize(m, m.stepSize).toString();
  if (q === undefined || q % m.stepSize !== 0n) {
    const floor = d.div(step).floor().times(step);
    throw new UnitsError(`size ${d.toString()} is not a multiple of ${m.ticker}'s step ${step}; ${nearest(floor, step)}`);
  }
  if (!o.allowBelowMinimum && q < m.minOrderSize) throw new UnitsError(`size ${d.toString()} is below ${m.ticker}'s minimum order size ${quantumsToSize(m, m.minOrderSize).toString()}`);
  return q;
}

export function unitsToPrice(m: Pick<MarketSpec, 'priceExponent'>, units: bigint | string): Decimal {
  return new D(units.toString()).times(new D(10).pow(m.priceExponent));
}

export function quantumsToSize(m: Pick<MarketSpec, 'atomicResolution'>, q: bigint | string): Decimal {
  return new D(q.toString()).times(new D(10).pow(m.atomicResolution));
}

/** USDC (human) → uusdc; at most 6 decimals. */
export function usdcToMicro(amount: DecimalInput): bigint {
  const d = toDecimal(amount, 'amount');
  if (d.lte(0)) throw new UnitsError(`amount must be positive, got ${d.toString()}`);
  const u = shiftToInteger(d, 6);
  if (u === undefined) throw new UnitsError(`amount ${d.toString()} has more than 6 decimals (1 uusdc = 0.000001 USDC)`);
  return u;
}

export function microToUsdc(u: bigint | string): Decimal {
  return new D(u.toString()).div(1_000_000);
}
