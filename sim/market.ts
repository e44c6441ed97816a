/**
 * Markets of a scenario: the devnet market definitions (units, tick, step)
 * with the scenario's margin overrides, their price series (historic candles
 * resampled to the block cadence, exact integers in the market's price
 * units), and the genesis app_state the simulated chain starts from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEVNET_MARKETS } from '../chain/devnet/markets.js';
import { moduleAddress } from '../chain/codec/address.js';
import { loadDataset, parsePriceCsv, resample, type PricePoint, type PriceTick } from './data/index.js';
import { ConfigError, type MarketConfig, type SimConfig } from './config.js';

/** What agents and reports need to know about a market (integers as on chain; floats only for conversions at the edge). */
export interface MarketSpec {
  id: number;
  ticker: string;
  atomicResolution: number;
  priceExponent: number;
  /** uusdc per (quantum · price unit) = 10^quoteExponent. */
  quoteExponent: number;
  tickSize: bigint;
  stepSize: bigint;
  minOrderSize: bigint;
  imfPpm: bigint;
  mmfPpm: bigint;
  /** USD per price unit and base units per quantum (floats, for agents' arithmetic and reports). */
  usdPerPriceUnit: number;
  basePerQuantum: number;
  genesisJson: Record<string, unknown>;
}

export function marketSpecs(c: SimConfig): MarketSpec[] {
  return c.markets.map((mc) => {
    const d = DEVNET_MARKETS.find((m) => m.id === mc.id);
    if (!d) throw new ConfigError(`no devnet market with id ${mc.id}`);
    const baseImf = BigInt(d.initial_margin_ppm);
    const baseMmf = BigInt(d.maintenance_margin_ppm);
    const mmf = BigInt(mc.mmfPpm ?? c.params.mmfPpm ?? Number(baseMmf));
    let imf = BigInt(mc.imfPpm ?? c.params.imfPpm ?? Number(baseImf));
    // sweeping MMF past the IMF: keep the market's IMF/MMF ratio (rounded up)
    if (imf <= mmf) imf = (mmf * baseImf + baseMmf - 1n) / baseMmf;
    if (imf > 1_000_000n) imf = 1_000_000n;
    if (mmf <= 0n || mmf >= imf) throw new ConfigError(`market ${d.ticker}: need 0 < MMF (${mmf}) < IMF (${imf}) ≤ 1,000,000`);
    const genesisJson: Record<string, unknown> = {
      ...d,
      initial_margin_ppm: imf.toString(),
      maintenance_margin_ppm: mmf.toString(),
      ...(c.params.fundingRateCapPpm !== undefined ? { funding_rate_cap_ppm: String(c.params.fundingRateCapPpm) } : {}),
    };
    return {
      id: d.id,
      ticker: d.ticker,
      atomicResolution: d.atomic_resolution,
      priceExponent: d.price_exponent,
      quoteExponent: d.atomic_resolution + d.price_exponent + 6,
      tickSize: BigInt(d.tick_size),
      stepSize: BigInt(d.step_size),
      minOrderSize: BigInt(d.min_order_size),
      imfPpm: imf,
      mmfPpm: mmf,
      usdPerPriceUnit: 10 ** d.price_exponent,
      basePerQuantum: 10 ** d.atomic_resolution,
      genesisJson,
    };
  });
}

/** uusdc notional of `size` quantums at `price` (rounded toward zero; for reports and agent sizing). */
export function notionalUusdc(m: MarketSpec, size: bigint, price: bigint): bigint {
  const n = (size < 0n ? -size : size) * price;
  return m.quoteExponent >= 0 ? n * 10n ** BigInt(m.quoteExponent) : n / 10n ** BigInt(-m.quoteExponent);
}

/** Float USD of a price in units. */
export function priceUsd(m: MarketSpec, price: bigint | number): number {
  return Number(price) * m.usdPerPriceUnit;
}

/** Quantums for a USD notional at a price (floored to the step; 0 when below the minimum order size). */
export function sizeForUsd(m: MarketSpec, usd: number, price: bigint): bigint {
  const px = priceUsd(m, price);
  if (!(usd > 0) || !(px > 0)) return 0n;
  const quantums = usd / px / m.basePerQuantum;
  const steps = Math.floor(quantums / Number(m.stepSize));
  if (!Number.isFinite(steps) || steps <= 0) return 0n;
  const q = BigInt(steps) * m.stepSize;
  return q >= m.minOrderSize ? q : 0n;
}

/** A price rounded to the market's tick: down for bids, up for asks. */
export function toTick(m: MarketSpec, price: number, side: 'buy' | 'sell'): bigint {
  const t = Number(m.tickSize);
  const ticks = side === 'buy' ? Math.floor(price / t) : Math.ceil(price / t);
  return BigInt(Math.max(1, ticks)) * m.tickSize;
}

// ------------------------------------------------------------------- prices

export interface MarketSeries {
  marketId: number;
  source: string;
  ticks: PriceTick[];
}

function loadPoints(mc: MarketConfig, baseDir: string): { points: PricePoint[]; source: string } {
  if (mc.dataset !== undefined) {
    const d = loadDataset(mc.dataset);
    return { points: d.points, source: `dataset ${mc.dataset} (${d.info.file})` };
  }
  const path = resolve(baseDir, mc.csv!);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`market ${mc.id}: cannot read ${path}: ${(e as Error).message}`);
  }
  return { points: parsePriceCsv(text, { source: path }), source: path };
}

function parseTime(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new ConfigError(`${what}: "${s}" is not an ISO 8601 time`);
  return t;
}

/**
 * Every market's price per scenario block. Series are aligned by block index
 * (block k of every market is tick k of its own window), so markets whose
 * crash windows do not coincide can share a run; block times follow the first
 * market. The run is as long as the shortest series (or `blocks`).
 */
export function loadSeries(c: SimConfig, specs: readonly MarketSpec[], baseDir: string): { series: MarketSeries[]; length: number; startMs: number } {
  const series = c.markets.map((mc) => {
    const spec = specs.find((s) => s.id === mc.id)!;
    const { points, source } = loadPoints(mc, baseDir);
    const from = parseTime(mc.from, `market ${mc.id} from`);
    const to = parseTime(mc.to, `market ${mc.id} to`);
    const ticks = resample(points, {
      blockMs: c.blockMs,
      mode: mc.mode,
      exponent: spec.priceExponent,
      rounding: 'half-up',
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
    return { marketId: mc.id, source, ticks };
  });
  const available = Math.min(...series.map((s) => s.ticks.length));
  if (c.blocks === 1) throw new ConfigError('blocks must be 0 (the whole series) or at least 2');
  if (available < 2) throw new ConfigError(`the price series gives ${available} block(s) at ${c.blockMs} ms per block; a run needs at least 2 (a longer window or a shorter block)`);
  if (c.blocks > available) throw new ConfigError(`blocks ${c.blocks} is more than the price series gives (${available} blocks at ${c.blockMs} ms each); use 0 for the whole series`);
  const length = c.blocks > 0 ? c.blocks : available;
  return { series, length, startMs: series[0]!.ticks[0]!.timeMs };
}

// ------------------------------------------------------------------ genesis

export const INSURANCE_FUND = moduleAddress('insurance_fund');

export interface GenesisAccount {
  address: string;
  /** uusdc bank balance at genesis. */
  balance: bigint;
}

export function genesisAppState(
  c: SimConfig,
  specs: readonly MarketSpec[],
  o: { authority: string; feeders: readonly string[]; accounts: readonly GenesisAccount[]; initialPrices: ReadonlyMap<number, bigint> },
): Record<string, unknown> {
  const usd = (x: number) => BigInt(Math.round(x * 1_000_000));
  const fund = usd(c.params.insuranceFundUsd);
  return {
    bank: {
      balances: [
        ...o.accounts.map((a) => ({ address: a.address, amount: a.balance.toString() })),
        ...(fund > 0n ? [{ address: INSURANCE_FUND, amount: fund.toString() }] : []),
      ],
    },
    prices: {
      params: {
        feeders: [...o.feeders],
        min_change_ppm: String(c.oracle.minChangePpm),
        max_move_ppm: String(c.oracle.maxMovePpm),
        staleness_seconds: String(c.oracle.stalenessSeconds),
      },
      prices: specs.map((s) => ({ market_id: s.id, price: o.initialPrices.get(s.id)!.toString() })),
    },
    perpetuals: { params: { authority: o.authority, funding_interval_seconds: '3600' }, markets: specs.map((s) => s.genesisJson) },
    clob: { params: { taker_fee_ppm: c.params.takerFeePpm, maker_fee_ppm: c.params.makerFeePpm } },
    liquidation: {
      params: {
        liquidation_fee_ppm: String(c.params.liquidationFeePpm),
        spread_to_mmf_ppm: String(c.params.spreadToMmfPpm),
        position_fraction_ppm: String(c.params.positionFractionPpm),
        min_liquidation_notional: usd(c.params.minLiquidationNotionalUsd).toString(),
        max_liquidations_per_block: c.params.maxLiquidationsPerBlock,
        max_adl_fills_per_block: c.params.maxAdlFillsPerBlock,
        max_adl_candidates: c.params.maxAdlCandidates,
      },
    },
  };
}
