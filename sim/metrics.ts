/**
 * Per-block measurements of a run (columnar, one entry per block) and the
 * run's JSON summary. Everything is read from the chain: the events of each
 * FinalizeBlock and read-only committed state. Money is accumulated exactly in
 * uusdc (bigint) and printed as decimal USD strings.
 */
import type { AbciEvent } from '../chain/types.js';
import type { MarketSpec } from './market.js';
import { notionalUusdc, priceUsd } from './market.js';

export interface MarketColumns {
  reference: number[];
  oracle: number[];
  bestBid: Array<number | null>;
  bestAsk: Array<number | null>;
  /** Open interest, base quantums (one side), and its USD notional at the oracle. */
  oi: number[];
  oiUsd: number[];
  fills: number[];
  volumeUsd: number[];
  liquidations: number[];
  liquidatedUsd: number[];
  fundingRatePpm: Array<number | null>;
  clamped: number[];
}

export interface BlockColumns {
  height: number[];
  timeMs: number[];
  /** Scenario block (negative during warm-up). */
  sblock: number[];
  txs: number[];
  failedTxs: number[];
  liquidations: number[];
  liquidatedUsd: number[];
  adlFills: number[];
  adlUsd: number[];
  badDebtUsd: number[];
  insuranceFundUsd: number[];
  liquidatable: number[];
  carried: number[];
  fundingPaidUsd: number[];
  markets: Map<number, MarketColumns>;
}

export interface MarginSample {
  height: number;
  timeMs: number;
  sblock: number;
  /** NC / MMR of every account with a position (capped for display). */
  ratios: Float64Array;
  /** Accounts below 1 (liquidatable). */
  below1: number;
}

export interface LiquidationRecord {
  height: number;
  marketId: number;
  side: 'buy' | 'sell';
  notional: bigint;
  /** (fill − oracle) against the liquidated account, in bps (positive = worse than the oracle). */
  slippageBps: number;
  fee: bigint;
  insuranceDelta: bigint;
}

const USD = 1_000_000n;

/** Exact decimal USD string of a uusdc amount. */
export function usdString(uusdc: bigint): string {
  const neg = uusdc < 0n;
  const a = neg ? -uusdc : uusdc;
  return `${neg ? '-' : ''}${a / USD}.${(a % USD).toString().padStart(6, '0')}`;
}

export const toUsd = (uusdc: bigint): number => Number(uusdc) / 1e6;

function attrs(e: AbciEvent): Record<string, string> {
  const o: Record<string, string> = {};
  for (const a of e.attributes) o[a.key] = a.value;
  return o;
}

export class Metrics {
  readonly cols: BlockColumns;
  readonly margin: MarginSample[] = [];
  readonly liquidationRecords: LiquidationRecord[] = [];
  readonly failedByReason = new Map<string, number>();
  readonly specs: ReadonlyMap<number, MarketSpec>;

  // running totals (exact)
  liqCount = 0;
  liqNotional = 0n;
  liqFees = 0n;
  insurancePaidForLiquidations = 0n;
  adlFills = 0;
  adlSize = new Map<number, bigint>();
  adlNotional = 0n;
  adlAtOracle = 0;
  badDebt = 0n;
  badDebtEvents = 0;
  insuranceCoverEvents = 0;
  insuranceCovered = 0n;
  /** Bad debt recorded (written off) and repaid by the insurance fund during the run; `badDebt` is what is outstanding. */
  badDebtWrittenOff = 0n;
  badDebtRepaid = 0n;
  /** The fund's balance after the last warm-up block: the scenario's starting point. */
  private insuranceBeforeScenario: bigint | undefined;
  fundingTicks = 0;
  /** Σ |funding| transferred between longs and shorts (10^-18 uusdc per quantum × OI), and signed (longs → shorts). */
  fundingAbs = 0n;
  fundingLongsPaid = 0n;
  volume = 0n;
  fills = 0;
  txs = 0;
  failedTxs = 0;
  clampedUpdates = 0;
  oracleUpdates = 0;
  carriedBlocks = 0;
  insuranceStart: bigint | undefined;
  insuranceMin: { value: bigint; height: number } | undefined;
  insuranceEnd = 0n;
  /** The fund's running peak, and its largest fall from a peak (peak to a later low) over the scenario blocks. */
  insurancePeak = 0n;
  insuranceDrawdown: { usd: bigint; peak: bigint; height: number } = { usd: 0n, peak: 0n, height: 0 };
  peakOi = new Map<number, { base: bigint; usd: bigint; height: number }>();
  /** Largest |oracle − reference| / reference seen, ppm. */
  maxOracleDeviationPpm = new Map<number, number>();

  // per-block scratch
  private b = this.emptyBlock();

  constructor(specs: readonly MarketSpec[]) {
    this.specs = new Map(specs.map((s) => [s.id, s]));
    const markets = new Map<number, MarketColumns>();
    for (const s of specs) {
      markets.set(s.id, { reference: [], oracle: [], bestBid: [], bestAsk: [], oi: [], oiUsd: [], fills: [], volumeUsd: [], liquidations: [], liquidatedUsd: [], fundingRatePpm: [], clamped: [] });
    }
    this.cols = {
      height: [],
      timeMs: [],
      sblock: [],
      txs: [],
      failedTxs: [],
      liquidations: [],
      liquidatedUsd: [],
      adlFills: [],
      adlUsd: [],
      badDebtUsd: [],
      insuranceFundUsd: [],
      liquidatable: [],
      carried: [],
      fundingPaidUsd: [],
      markets,
    };
  }

  private emptyBlock() {
    return {
      liqs: 0,
      liqNotional: 0n,
      adl: 0,
      adlNotional: 0n,
      funding: 0n,
      perMarket: new Map<number, { fills: number; volume: bigint; liqs: number; liqNotional: bigint; rate: number | null; clamped: number }>(),
    };
  }

  private pm(id: number) {
    let m = this.b.perMarket.get(id);
    if (!m) this.b.perMarket.set(id, (m = { fills: 0, volume: 0n, liqs: 0, liqNotional: 0n, rate: null, clamped: 0 }));
    return m;
  }

  readonly failedByKind = new Map<string, number>();
  /** ADL fills per kind of the counterparty that was deleveraged. */
  readonly adlCounterpartyKinds = new Map<string, number>();

  noteTx(code: number, codespace: string, log: string, kind = 'feeder'): void {
    this.txs++;
    if (code !== 0) {
      this.failedTxs++;
      this.failedByKind.set(kind, (this.failedByKind.get(kind) ?? 0) + 1);
      // the reason without numbers, so the table stays short
      const reason = `${codespace}/${code} ${log.replace(/[0-9]+/g, 'N').slice(0, 80)}`;
      this.failedByReason.set(reason, (this.failedByReason.get(reason) ?? 0) + 1);
    }
  }

  /** One chain event of the block being recorded. */
  event(e: AbciEvent, height: number, oracleOf: (market: number) => bigint): void {
    switch (e.type) {
      case 'clob.fill': {
        const a = attrs(e);
        const id = Number(a.market_id);
        const s = this.specs.get(id);
        if (!s) return;
        const q = notionalUusdc(s, BigInt(a.size!), BigInt(a.price!));
        const m = this.pm(id);
        m.fills++;
        m.volume += q;
        this.volume += q;
        this.fills++;
        return;
      }
      case 'liquidation.liquidated': {
        const a = attrs(e);
        const id = Number(a.market_id);
        const s = this.specs.get(id)!;
        const quote = BigInt(a.quote!);
        const oracle = Number(a.oracle_price);
        const avg = Number(a.average_price);
        const side = a.side === 'buy' ? 'buy' : 'sell';
        const slip = oracle > 0 ? ((side === 'sell' ? oracle - avg : avg - oracle) / oracle) * 10_000 : 0;
        const fee = BigInt(a.fee!);
        const ins = BigInt(a.insurance_delta!);
        this.liquidationRecords.push({ height, marketId: id, side, notional: quote, slippageBps: slip, fee, insuranceDelta: ins });
        this.liqCount++;
        this.liqNotional += quote;
        this.liqFees += fee;
        // the fund's gross payout (older chains reported only the net insurance_delta)
        this.insurancePaidForLiquidations += a.insurance_paid !== undefined ? BigInt(a.insurance_paid) : ins < 0n ? -ins : 0n;
        this.b.liqs++;
        this.b.liqNotional += quote;
        const m = this.pm(id);
        m.liqs++;
        m.liqNotional += quote;
        void s;
        return;
      }
      case 'liquidation.adl': {
        const a = attrs(e);
        const id = Number(a.market_id);
        const s = this.specs.get(id)!;
        const size = BigInt(a.size!);
        const q = notionalUusdc(s, size, BigInt(a.price!));
        this.adlFills++;
        this.adlSize.set(id, (this.adlSize.get(id) ?? 0n) + size);
        this.adlNotional += q;
        if (a.at_oracle === 'true') this.adlAtOracle++;
        this.b.adl++;
        this.b.adlNotional += q;
        return;
      }
      case 'liquidation.bad_debt': {
        const a = attrs(e);
        this.badDebtEvents++;
        this.badDebtWrittenOff += BigInt(a.amount!);
        this.insuranceCovered += BigInt(a.insurance_paid ?? '0');
        return;
      }
      case 'subaccounts.bad_debt_repaid': {
        // the insurance fund repays recorded bad debt from its later income (fund → pool)
        this.badDebtRepaid += BigInt(attrs(e).amount!);
        return;
      }
      case 'liquidation.insurance_cover': {
        const a = attrs(e);
        this.insuranceCoverEvents++;
        this.insuranceCovered += BigInt(a.amount!);
        return;
      }
      case 'liquidation.carried':
        this.carriedBlocks++;
        return;
      case 'perpetuals.funding': {
        const a = attrs(e);
        const id = Number(a.market_id);
        this.fundingTicks++;
        this.pm(id).rate = Number(a.rate_ppm);
        // what longs paid: Δindex (10^-18 uusdc per quantum) × long open interest
        const oi = this.lastOi.get(id) ?? 0n;
        const paid = (BigInt(a.index_delta!) * oi) / 10n ** 18n;
        this.fundingLongsPaid += paid;
        this.fundingAbs += paid < 0n ? -paid : paid;
        this.b.funding += paid < 0n ? -paid : paid;
        void oracleOf;
        return;
      }
      case 'prices.update': {
        const a = attrs(e);
        this.oracleUpdates++;
        if (a.clamped === 'true') {
          this.clampedUpdates++;
          this.pm(Number(a.market_id)).clamped++;
        }
        return;
      }
      default:
        return;
    }
  }

  /** Long open interest per market at the end of the previous block (funding is settled against it). */
  private readonly lastOi = new Map<number, bigint>();

  /** Close the block's record with the committed state's figures. */
  endBlock(o: {
    height: number;
    timeMs: number;
    sblock: number;
    txs: number;
    failed: number;
    insuranceFund: bigint;
    badDebt: bigint;
    liquidatable: number;
    carried: number;
    markets: ReadonlyMap<number, { reference: bigint; oracle: bigint; oi: bigint; bestBid: bigint | undefined; bestAsk: bigint | undefined }>;
  }): void {
    const c = this.cols;
    const b = this.b;
    c.height.push(o.height);
    c.timeMs.push(o.timeMs);
    c.sblock.push(o.sblock);
    c.txs.push(o.txs);
    c.failedTxs.push(o.failed);
    c.liquidations.push(b.liqs);
    c.liquidatedUsd.push(toUsd(b.liqNotional));
    c.adlFills.push(b.adl);
    c.adlUsd.push(toUsd(b.adlNotional));
    c.badDebtUsd.push(toUsd(o.badDebt));
    c.insuranceFundUsd.push(toUsd(o.insuranceFund));
    c.liquidatable.push(o.liquidatable);
    c.carried.push(o.carried);
    c.fundingPaidUsd.push(toUsd(this.fundingAbs));
    this.badDebt = o.badDebt;
    this.insuranceEnd = o.insuranceFund;
    if (o.sblock < 0) this.insuranceBeforeScenario = o.insuranceFund;
    if (o.sblock >= 0) {
      if (this.insuranceStart === undefined) {
        // the start is the balance before the first scenario block (read after it, a payout in that block vanished)
        this.insuranceStart = this.insuranceBeforeScenario ?? o.insuranceFund;
        this.insuranceMin = { value: this.insuranceStart, height: o.height - 1 };
        this.insurancePeak = this.insuranceStart;
      }
      if (!this.insuranceMin || o.insuranceFund < this.insuranceMin.value) this.insuranceMin = { value: o.insuranceFund, height: o.height };
      if (o.insuranceFund > this.insurancePeak) this.insurancePeak = o.insuranceFund;
      const fall = this.insurancePeak - o.insuranceFund;
      if (fall > this.insuranceDrawdown.usd) this.insuranceDrawdown = { usd: fall, peak: this.insurancePeak, height: o.height };
    }
    for (const [id, mc] of c.markets) {
      const s = this.specs.get(id)!;
      const x = o.markets.get(id)!;
      const pm = b.perMarket.get(id);
      mc.reference.push(priceUsd(s, x.reference));
      mc.oracle.push(priceUsd(s, x.oracle));
      mc.bestBid.push(x.bestBid === undefined ? null : priceUsd(s, x.bestBid));
      mc.bestAsk.push(x.bestAsk === undefined ? null : priceUsd(s, x.bestAsk));
      mc.oi.push(Number(x.oi) * s.basePerQuantum);
      const oiUsd = notionalUusdc(s, x.oi, x.oracle);
      mc.oiUsd.push(toUsd(oiUsd));
      mc.fills.push(pm?.fills ?? 0);
      mc.volumeUsd.push(toUsd(pm?.volume ?? 0n));
      mc.liquidations.push(pm?.liqs ?? 0);
      mc.liquidatedUsd.push(toUsd(pm?.liqNotional ?? 0n));
      mc.fundingRatePpm.push(pm?.rate ?? null);
      mc.clamped.push(pm?.clamped ?? 0);
      this.lastOi.set(id, x.oi);
      const peak = this.peakOi.get(id);
      if (!peak || oiUsd > peak.usd) this.peakOi.set(id, { base: x.oi, usd: oiUsd, height: o.height });
      if (o.sblock >= 0 && x.reference > 0n) {
        const dev = Number(((x.oracle > x.reference ? x.oracle - x.reference : x.reference - x.oracle) * 1_000_000n) / x.reference);
        if (dev > (this.maxOracleDeviationPpm.get(id) ?? 0)) this.maxOracleDeviationPpm.set(id, dev);
      }
    }
    this.b = this.emptyBlock();
  }

  get blocks(): number {
    return this.cols.height.length;
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))));
  return sorted[i]!;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** v · 10^-decimals as an exact decimal string. */
function scaled(v: bigint, decimals: number): string {
  if (decimals <= 0) return (v * 10n ** BigInt(-decimals)).toString();
  const neg = v < 0n;
  const a = (neg ? -v : v).toString().padStart(decimals + 1, '0');
  return `${neg ? '-' : ''}${a.slice(0, -decimals)}.${a.slice(-decimals)}`;
}

export interface MarketSummary {
  liquidations: number;
  liquidated_notional_usd: string;
  adl_size: string;
  peak_open_interest: { base: string; quantums: string; notional_usd: string; height: number } | null;
  max_oracle_deviation_ppm: number;
}

export interface SummaryInput {
  scenario: string;
  description: string;
  seed: number;
  configHash: string;
  warmupBlocks: number;
  scenarioBlocks: number;
  startTime: string;
  endTime: string;
  accounts: Record<string, number>;
  agents: Record<string, number | string>;
  finalHeight: number;
  appHash: string;
  invariantChecks: number;
}

/** The run's JSON summary (deterministic: no wall-clock figures). */
export function buildSummary(m: Metrics, i: SummaryInput) {
  const slips = m.liquidationRecords.map((r) => r.slippageBps).sort((a, b) => a - b);
  let wsum = 0;
  let w = 0;
  for (const r of m.liquidationRecords) {
    const n = Number(r.notional);
    wsum += r.slippageBps * n;
    w += n;
  }
  const start = m.insuranceStart ?? 0n;
  const min = m.insuranceMin?.value ?? start;
  const byMarket: Record<string, MarketSummary> = {};
  for (const [id, s] of m.specs) {
    const recs = m.liquidationRecords.filter((r) => r.marketId === id);
    const peak = m.peakOi.get(id);
    byMarket[s.ticker] = {
      liquidations: recs.length,
      liquidated_notional_usd: usdString(recs.reduce((a, r) => a + r.notional, 0n)),
      adl_size: (m.adlSize.get(id) ?? 0n).toString(),
      peak_open_interest: peak ? { base: scaled(peak.base, -s.atomicResolution), quantums: peak.base.toString(), notional_usd: usdString(peak.usd), height: peak.height } : null,
      max_oracle_deviation_ppm: m.maxOracleDeviationPpm.get(id) ?? 0,
    };
  }
  return {
    scenario: i.scenario,
    description: i.description,
    seed: i.seed,
    config_sha256: i.configHash,
    blocks: { warmup: i.warmupBlocks, scenario: i.scenarioBlocks, total: i.warmupBlocks + i.scenarioBlocks },
    time: { start: i.startTime, end: i.endTime },
    accounts: i.accounts,
    agents: i.agents,
    liquidations: {
      count: m.liqCount,
      notional_usd: usdString(m.liqNotional),
      fees_to_insurance_usd: usdString(m.liqFees),
      insurance_paid_usd: usdString(m.insurancePaidForLiquidations),
      slippage_vs_oracle_bps: {
        notional_weighted_mean: w > 0 ? r2(wsum / w) : 0,
        median: r2(quantile(slips, 0.5)),
        p95: r2(quantile(slips, 0.95)),
        max: r2(slips.length ? slips[slips.length - 1]! : 0),
      },
      blocks_with_carried_liquidations: m.carriedBlocks,
    },
    insurance_fund: {
      start_usd: usdString(start),
      min_usd: usdString(min),
      min_height: m.insuranceMin?.height ?? null,
      end_usd: usdString(m.insuranceEnd),
      // peak to trough: the largest fall from a running peak to a later value (a fund that grew from fees and then
      // paid them out has drawn down, even if it never went below its start)
      max_drawdown_usd: usdString(m.insuranceDrawdown.usd),
      max_drawdown_pct: m.insuranceDrawdown.peak > 0n ? r2((Number(m.insuranceDrawdown.usd) / Number(m.insuranceDrawdown.peak)) * 100) : 0,
      max_drawdown_peak_usd: usdString(m.insuranceDrawdown.peak),
      max_drawdown_height: m.insuranceDrawdown.usd > 0n ? m.insuranceDrawdown.height : null,
      below_start_usd: usdString(start > min ? start - min : 0n),
    },
    adl: { fills: m.adlFills, notional_usd: usdString(m.adlNotional), at_oracle: m.adlAtOracle, counterparties_by_kind: Object.fromEntries([...m.adlCounterpartyKinds].sort()) },
    // total = written off during the run; outstanding = still recorded at the end (the fund repays it from later income)
    bad_debt: { total_usd: usdString(m.badDebtWrittenOff), outstanding_usd: usdString(m.badDebt), repaid_usd: usdString(m.badDebtRepaid), events: m.badDebtEvents, insurance_covered_usd: usdString(m.insuranceCovered) },
    funding: { ticks: m.fundingTicks, paid_usd: usdString(m.fundingAbs), longs_paid_usd: usdString(m.fundingLongsPaid) },
    oracle: { updates: m.oracleUpdates, clamped: m.clampedUpdates },
    trading: { fills: m.fills, volume_usd: usdString(m.volume) },
    txs: { total: m.txs, failed: m.failedTxs, failed_by_sender: Object.fromEntries([...m.failedByKind].sort()), failed_by_reason: Object.fromEntries([...m.failedByReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20)) },
    markets: byMarket,
    invariant_checks: i.invariantChecks,
    final: { height: i.finalHeight, app_hash: i.appHash },
  };
}

export type Summary = ReturnType<typeof buildSummary>;
