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

/**
 * Running totals of chain events over a span of blocks, exact. A run keeps one for its warm-up and one for the
 * scenario, so the summary's figures describe the scenario (the warm-up's entries and quotes are not part of the
 * bad day) while what happened before it is still reported.
 */
export class Totals {
  liqCount = 0;
  liqNotional = 0n;
  liqFees = 0n;
  insurancePaidForLiquidations = 0n;
  adlFills = 0;
  readonly adlSize = new Map<number, bigint>();
  adlNotional = 0n;
  adlAtOracle = 0;
  badDebtEvents = 0;
  insuranceCoverEvents = 0;
  insuranceCovered = 0n;
  /** Bad debt recorded (written off) and repaid by the insurance fund; what is outstanding is state, not a total. */
  badDebtWrittenOff = 0n;
  badDebtRepaid = 0n;
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
  readonly liquidationRecords: LiquidationRecord[] = [];
  readonly failedByReason = new Map<string, number>();
  readonly failedByKind = new Map<string, number>();
  /** ADL fills per kind of the counterparty that was deleveraged. */
  readonly adlCounterpartyKinds = new Map<string, number>();

  /** Add another span's totals (a block's) to these. */
  add(o: Totals): void {
    this.liqCount += o.liqCount;
    this.liqNotional += o.liqNotional;
    this.liqFees += o.liqFees;
    this.insurancePaidForLiquidations += o.insurancePaidForLiquidations;
    this.adlFills += o.adlFills;
    addAll(this.adlSize, o.adlSize, 0n);
    this.adlNotional += o.adlNotional;
    this.adlAtOracle += o.adlAtOracle;
    this.badDebtEvents += o.badDebtEvents;
    this.insuranceCoverEvents += o.insuranceCoverEvents;
    this.insuranceCovered += o.insuranceCovered;
    this.badDebtWrittenOff += o.badDebtWrittenOff;
    this.badDebtRepaid += o.badDebtRepaid;
    this.fundingTicks += o.fundingTicks;
    this.fundingAbs += o.fundingAbs;
    this.fundingLongsPaid += o.fundingLongsPaid;
    this.volume += o.volume;
    this.fills += o.fills;
    this.txs += o.txs;
    this.failedTxs += o.failedTxs;
    this.clampedUpdates += o.clampedUpdates;
    this.oracleUpdates += o.oracleUpdates;
    this.carriedBlocks += o.carriedBlocks;
    for (const r of o.liquidationRecords) this.liquidationRecords.push(r);
    addAll(this.failedByReason, o.failedByReason, 0);
    addAll(this.failedByKind, o.failedByKind, 0);
    addAll(this.adlCounterpartyKinds, o.adlCounterpartyKinds, 0);
  }
}

function addAll<K, V extends number | bigint>(to: Map<K, V>, from: ReadonlyMap<K, V>, zero: V): void {
  for (const [k, v] of from) to.set(k, ((to.get(k) ?? zero) as number) + (v as number) as V);
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export class Metrics {
  readonly cols: BlockColumns;
  readonly margin: MarginSample[] = [];
  readonly specs: ReadonlyMap<number, MarketSpec>;
  /** Totals of the warm-up blocks (scenario block < 0) and of the scenario's; the summary reports both. */
  readonly warmup = new Totals();
  readonly scenario = new Totals();

  /** Bad debt outstanding after the last block (state, read from the chain). */
  badDebt = 0n;
  /** The fund's balance after the last warm-up block: the scenario's starting point. */
  private insuranceBeforeScenario: bigint | undefined;
  insuranceStart: bigint | undefined;
  insuranceMin: { value: bigint; height: number } | undefined;
  insuranceEnd = 0n;
  /** The fund's running peak, and its largest fall from a peak (peak to a later low) over the scenario blocks. */
  insurancePeak = 0n;
  insuranceDrawdown: { usd: bigint; peak: bigint; height: number } = { usd: 0n, peak: 0n, height: 0 };
  /** Over the scenario blocks. */
  peakOi = new Map<number, { base: bigint; usd: bigint; height: number }>();
  /** Largest |oracle − reference| / reference seen, ppm. */
  maxOracleDeviationPpm = new Map<number, number>();

  // the block being recorded: its events' totals (added to the warm-up's or the scenario's when it ends) and per market
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
      t: new Totals(),
      perMarket: new Map<number, { fills: number; volume: bigint; liqs: number; liqNotional: bigint; rate: number | null; clamped: number }>(),
    };
  }

  private pm(id: number) {
    let m = this.b.perMarket.get(id);
    if (!m) this.b.perMarket.set(id, (m = { fills: 0, volume: 0n, liqs: 0, liqNotional: 0n, rate: null, clamped: 0 }));
    return m;
  }

  noteTx(code: number, codespace: string, log: string, kind = 'feeder'): void {
    const t = this.b.t;
    t.txs++;
    if (code !== 0) {
      t.failedTxs++;
      bump(t.failedByKind, kind);
      // the reason without numbers, so the table stays short
      bump(t.failedByReason, `${codespace}/${code} ${log.replace(/[0-9]+/g, 'N').slice(0, 80)}`);
    }
  }

  /** An ADL fill of the block being recorded deleveraged a counterparty of this kind. */
  noteAdlCounterparty(kind: string): void {
    bump(this.b.t.adlCounterpartyKinds, kind);
  }

  /** One chain event of the block being recorded. */
  event(e: AbciEvent, height: number, oracleOf: (market: number) => bigint): void {
    const t = this.b.t;
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
        t.volume += q;
        t.fills++;
        return;
      }
      case 'liquidation.liquidated': {
        const a = attrs(e);
        const id = Number(a.market_id);
        const quote = BigInt(a.quote!);
        const oracle = Number(a.oracle_price);
        const avg = Number(a.average_price);
        const side = a.side === 'buy' ? 'buy' : 'sell';
        const slip = oracle > 0 ? ((side === 'sell' ? oracle - avg : avg - oracle) / oracle) * 10_000 : 0;
        const fee = BigInt(a.fee!);
        const ins = BigInt(a.insurance_delta!);
        t.liquidationRecords.push({ height, marketId: id, side, notional: quote, slippageBps: slip, fee, insuranceDelta: ins });
        t.liqCount++;
        t.liqNotional += quote;
        t.liqFees += fee;
        // the fund's gross payout (older chains reported only the net insurance_delta)
        t.insurancePaidForLiquidations += a.insurance_paid !== undefined ? BigInt(a.insurance_paid) : ins < 0n ? -ins : 0n;
        const m = this.pm(id);
        m.liqs++;
        m.liqNotional += quote;
        return;
      }
      case 'liquidation.adl': {
        const a = attrs(e);
        const id = Number(a.market_id);
        const s = this.specs.get(id)!;
        const size = BigInt(a.size!);
        const q = notionalUusdc(s, size, BigInt(a.price!));
        t.adlFills++;
        t.adlSize.set(id, (t.adlSize.get(id) ?? 0n) + size);
        t.adlNotional += q;
        if (a.at_oracle === 'true') t.adlAtOracle++;
        return;
      }
      case 'liquidation.bad_debt': {
        const a = attrs(e);
        t.badDebtEvents++;
        t.badDebtWrittenOff += BigInt(a.amount!);
        t.insuranceCovered += BigInt(a.insurance_paid ?? '0');
        return;
      }
      case 'subaccounts.bad_debt_repaid': {
        // the insurance fund repays recorded bad debt from its later income (fund → pool)
        t.badDebtRepaid += BigInt(attrs(e).amount!);
        return;
      }
      case 'liquidation.insurance_cover': {
        const a = attrs(e);
        t.insuranceCoverEvents++;
        t.insuranceCovered += BigInt(a.amount!);
        return;
      }
      case 'liquidation.carried':
        t.carriedBlocks++;
        return;
      case 'perpetuals.funding': {
        const a = attrs(e);
        const id = Number(a.market_id);
        t.fundingTicks++;
        this.pm(id).rate = Number(a.rate_ppm);
        // what longs paid: Δindex (10^-18 uusdc per quantum) × long open interest
        const oi = this.lastOi.get(id) ?? 0n;
        const paid = (BigInt(a.index_delta!) * oi) / 10n ** 18n;
        t.fundingLongsPaid += paid;
        t.fundingAbs += paid < 0n ? -paid : paid;
        void oracleOf;
        return;
      }
      case 'prices.update': {
        const a = attrs(e);
        t.oracleUpdates++;
        if (a.clamped === 'true') {
          t.clampedUpdates++;
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
    const span = o.sblock < 0 ? this.warmup : this.scenario;
    span.add(b.t);
    c.height.push(o.height);
    c.timeMs.push(o.timeMs);
    c.sblock.push(o.sblock);
    c.txs.push(o.txs);
    c.failedTxs.push(o.failed);
    c.liquidations.push(b.t.liqCount);
    c.liquidatedUsd.push(toUsd(b.t.liqNotional));
    c.adlFills.push(b.t.adlFills);
    c.adlUsd.push(toUsd(b.t.adlNotional));
    c.badDebtUsd.push(toUsd(o.badDebt));
    c.insuranceFundUsd.push(toUsd(o.insuranceFund));
    c.liquidatable.push(o.liquidatable);
    c.carried.push(o.carried);
    // cumulative over the span the block belongs to: warm-up rows from the run's start, scenario rows from the scenario's
    c.fundingPaidUsd.push(toUsd(span.fundingAbs));
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
      if (o.sblock >= 0) {
        const peak = this.peakOi.get(id);
        if (!peak || oiUsd > peak.usd) this.peakOi.set(id, { base: x.oi, usd: oiUsd, height: o.height });
      }
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
  /** The same agent counters over the warm-up blocks alone (`agents` is the scenario's). */
  warmupAgents?: Record<string, number>;
  finalHeight: number;
  appHash: string;
  invariantChecks: number;
}

/** The run's JSON summary (deterministic: no wall-clock figures). */
export function buildSummary(m: Metrics, i: SummaryInput) {
  // every event total is the scenario's; the warm-up's are reported on their own below
  const t = m.scenario;
  const w0 = m.warmup;
  const slips = t.liquidationRecords.map((r) => r.slippageBps).sort((a, b) => a - b);
  let wsum = 0;
  let w = 0;
  for (const r of t.liquidationRecords) {
    const n = Number(r.notional);
    wsum += r.slippageBps * n;
    w += n;
  }
  const start = m.insuranceStart ?? 0n;
  const min = m.insuranceMin?.value ?? start;
  const byMarket: Record<string, MarketSummary> = {};
  for (const [id, s] of m.specs) {
    const recs = t.liquidationRecords.filter((r) => r.marketId === id);
    const peak = m.peakOi.get(id);
    byMarket[s.ticker] = {
      liquidations: recs.length,
      liquidated_notional_usd: usdString(recs.reduce((a, r) => a + r.notional, 0n)),
      adl_size: (t.adlSize.get(id) ?? 0n).toString(),
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
      count: t.liqCount,
      notional_usd: usdString(t.liqNotional),
      fees_to_insurance_usd: usdString(t.liqFees),
      insurance_paid_usd: usdString(t.insurancePaidForLiquidations),
      slippage_vs_oracle_bps: {
        notional_weighted_mean: w > 0 ? r2(wsum / w) : 0,
        median: r2(quantile(slips, 0.5)),
        p95: r2(quantile(slips, 0.95)),
        max: r2(slips.length ? slips[slips.length - 1]! : 0),
      },
      blocks_with_carried_liquidations: t.carriedBlocks,
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
    adl: { fills: t.adlFills, notional_usd: usdString(t.adlNotional), at_oracle: t.adlAtOracle, counterparties_by_kind: Object.fromEntries([...t.adlCounterpartyKinds].sort()) },
    // total = written off during the scenario; outstanding = still recorded at the end, whenever it was (the fund repays it from later income)
    bad_debt: { total_usd: usdString(t.badDebtWrittenOff), outstanding_usd: usdString(m.badDebt), repaid_usd: usdString(t.badDebtRepaid), events: t.badDebtEvents, insurance_covered_usd: usdString(t.insuranceCovered) },
    funding: { ticks: t.fundingTicks, paid_usd: usdString(t.fundingAbs), longs_paid_usd: usdString(t.fundingLongsPaid) },
    oracle: { updates: t.oracleUpdates, clamped: t.clampedUpdates },
    trading: { fills: t.fills, volume_usd: usdString(t.volume) },
    txs: { total: t.txs, failed: t.failedTxs, failed_by_sender: Object.fromEntries([...t.failedByKind].sort()), failed_by_reason: Object.fromEntries([...t.failedByReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20)) },
    markets: byMarket,
    // what happened before the scenario's first block (entries, first quotes): not part of the figures above
    warmup: {
      txs: w0.txs,
      failed_txs: w0.failedTxs,
      fills: w0.fills,
      volume_usd: usdString(w0.volume),
      liquidations: w0.liqCount,
      liquidated_notional_usd: usdString(w0.liqNotional),
      adl_fills: w0.adlFills,
      bad_debt_written_off_usd: usdString(w0.badDebtWrittenOff),
      funding_paid_usd: usdString(w0.fundingAbs),
      agents: i.warmupAgents ?? {},
    },
    invariant_checks: i.invariantChecks,
    final: { height: i.finalHeight, app_hash: i.appHash },
  };
}

export type Summary = ReturnType<typeof buildSummary>;
