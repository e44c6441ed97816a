/**
 * The simulation driver. It owns an App (in memory or on sqlite) and drives
 * it exactly as a validator's consensus engine would: InitChain, then for
 * every block FinalizeBlock(txs) and Commit. Every price enters as a signed
 * MsgUpdatePrices from a registered feeder; every deposit, order, cancel and
 * withdrawal is a signed tx from an agent's own key, checked by the full
 * ante handler. The driver never writes module state; it reads committed
 * state (queries, read-only keeper views) to measure and to let agents see
 * what a trader would see.
 *
 * Determinism: agents draw from seeded PRNG streams and iterate in index
 * order; tx order within a block is a seeded permutation. Same config and
 * seed ⇒ same txs ⇒ same app hash.
 */
import { createHash } from 'node:crypto';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { App } from '../chain/app.js';
import type { AbciEvent, ExecTxResult, FinalizeBlockResult } from '../chain/types.js';
import { surplus } from '../modules/liquidation/index.js';
import { Agent, drawBuckets, type BlockCtx, type MarginStyle } from './agents/base.js';
import { MarketMaker } from './agents/market-maker.js';
import { FEE_RESERVE, Trader, Whale } from './agents/trader.js';
import type { SimConfig } from './config.js';
import { genesisAppState, loadSeries, marketSpecs, type MarketSeries, type MarketSpec } from './market.js';
import { buildSummary, Metrics, type Summary } from './metrics.js';
import { Rng } from './rng.js';
import { gasFor, MIN_GAS_PRICE_MICRO, signTx, SimKey, updatePricesAny } from './tx.js';
import { MarketView, Scheduler } from './world.js';

export interface SimOptions {
  /** Directory CSV paths in the config are relative to. */
  baseDir?: string;
  /** sqlite file for the App's state (default: in memory). */
  dbPath?: string;
  /** Called about every 100 ms of wall time while running. */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  block: number;
  total: number;
  sblock: number;
  liquidations: number;
  badDebtUsd: number;
  insuranceFundUsd: number;
  elapsedMs: number;
}

export class InvariantViolation extends Error {
  constructor(
    readonly height: number,
    readonly broken: Array<{ invariant: string; problems: string[] }>,
  ) {
    super(`invariant broken at height ${height}: ${broken.map((b) => `${b.invariant}: ${b.problems.slice(0, 3).join('; ')}`).join(' | ')}`);
  }
}

interface Feeder {
  key: SimKey;
  accountNumber: bigint;
  sequence: bigint;
  rng: Rng;
}

const GENESIS_FEEDER_BALANCE = 1_000_000_000n; // $1,000 of fees

export class Simulation {
  readonly config: SimConfig;
  readonly specs: MarketSpec[];
  readonly series: MarketSeries[];
  /** Scenario blocks (after warm-up). */
  readonly length: number;
  readonly warmup: number;
  readonly metrics: Metrics;
  readonly agents: Agent[] = [];
  readonly views = new Map<number, MarketView>();
  readonly feeders: Feeder[] = [];
  readonly authority: SimKey;
  readonly genesis: Record<string, unknown>;
  readonly genesisTimeNs: bigint;
  private readonly sched = new Scheduler();
  private readonly alwaysActive: Agent[] = [];
  private readonly momentum = new Map<number, Trader[]>();
  private readonly byAddress = new Map<string, Agent>();
  private readonly blockRng: Rng;
  private readonly startMs: number;
  private readonly configHash: string;
  private app: App;
  /** Blocks finalized so far (= the App's height). */
  private done = 0;
  private invariantChecks = 0;
  private marginEvery: number;
  private readonly t0 = performance.now();
  private lastProgress = 0;
  /**
   * Wall time (ms) spent per stage, for benchmarks and the report's run line
   * (read from the clock only for display; nothing here reaches the chain):
   * agents deciding and signing, FinalizeBlock, Commit, reading results and
   * events back into the agents, measuring, invariant checks.
   */
  readonly timing = { agents: 0, sign: 0, finalize: 0, commit: 0, results: 0, measure: 0, invariants: 0, blocks: 0, txs: 0, msgs: 0 };

  constructor(
    config: SimConfig,
    private readonly opts: SimOptions = {},
  ) {
    this.config = config;
    // what the chain sees: the config without the settings that only steer the driver's checks and reports
    const { checkInvariants: _ci, report: _r, sweep: _s, ...chainRelevant } = config;
    this.configHash = createHash('sha256').update(JSON.stringify(chainRelevant)).digest('hex');
    this.specs = marketSpecs(config);
    const { series, length, startMs } = loadSeries(config, this.specs, opts.baseDir ?? process.cwd());
    this.series = series;
    this.length = length;
    this.startMs = startMs;
    this.warmup = config.warmupBlocks;
    this.metrics = new Metrics(this.specs);
    this.blockRng = Rng.fork(config.seed, 'block-order');
    this.marginEvery = Math.max(1, Math.ceil(length / config.report.marginSamples));
    const seed = config.seed;
    this.authority = new SimKey(seed, 'authority');
    for (let f = 0; f < config.oracle.feeders; f++) this.feeders.push({ key: new SimKey(seed, `feeder-${f}`), accountNumber: 0n, sequence: 0n, rng: Rng.fork(seed, `feeder-${f}`) });
    for (const s of this.specs) this.views.set(s.id, new MarketView(s, this.reference(s.id, 0)));
    this.buildAgents();

    // genesis: feeders, then agents, in index order (account numbers follow this order)
    const accounts = [
      ...this.feeders.map((f) => ({ address: f.key.address, balance: GENESIS_FEEDER_BALANCE })),
      ...this.agents.map((a) => ({ address: a.address, balance: a.bank })),
    ];
    accounts.forEach((a, i) => {
      if (i < this.feeders.length) this.feeders[i]!.accountNumber = BigInt(i);
      else this.agents[i - this.feeders.length]!.accountNumber = BigInt(i);
    });
    const initialPrices = new Map(this.specs.map((s) => [s.id, this.reference(s.id, 0)]));
    this.genesis = genesisAppState(config, this.specs, { authority: this.authority.address, feeders: this.feeders.map((f) => f.key.address), accounts, initialPrices });
    this.genesisTimeNs = BigInt(startMs - (this.warmup + 1) * config.blockMs) * 1_000_000n;
    this.app = App.open(opts.dbPath ? { dbPath: opts.dbPath } : {});
    if (this.app.height === 0n) {
      this.app.initChain({ chainId: config.chainId, timeNs: this.genesisTimeNs, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(this.genesis)) });
    } else {
      throw new Error(`${opts.dbPath} already holds a chain at height ${this.app.height}; a simulation starts from genesis`);
    }
  }

  /** The App this simulation drives (replace it with attach() after reopening it from disk). */
  get chain(): App {
    return this.app;
  }

  /** Continue on another App instance holding the same state (e.g. reopened from sqlite after close()). */
  attach(app: App): void {
    if (app.height !== BigInt(this.done)) throw new Error(`attach: the App is at height ${app.height}, the simulation at ${this.done}`);
    if (Buffer.compare(Buffer.from(app.appHash), Buffer.from(this.app.appHash)) !== 0 && this.done > 0) throw new Error('attach: the App has a different app hash');
    this.app = app;
  }

  get totalBlocks(): number {
    return this.warmup + this.length;
  }

  get finished(): boolean {
    return this.done >= this.totalBlocks;
  }

  get height(): number {
    return this.done;
  }

  /** Reference (true) price of a market at scenario block k (k < 0: warm-up, the first price). */
  reference(marketId: number, k: number): bigint {
    const s = this.series.find((x) => x.marketId === marketId)!;
    return s.ticks[Math.max(0, Math.min(k, this.length - 1))]!.price;
  }

  // ------------------------------------------------------------- population

  private buildAgents(): void {
    const c = this.config;
    const seed = c.seed;
    const a = c.agents;
    const usd = (x: number) => BigInt(Math.round(x * 1_000_000));
    const add = (agent: Agent) => {
      this.agents.push(agent);
      this.byAddress.set(agent.address, agent);
    };
    // market makers, per market
    for (const s of this.specs) {
      for (let i = 0; i < a.marketMakers.perMarket; i++) {
        const idx = this.agents.length;
        const mm = new MarketMaker(idx, new SimKey(seed, `mm-${s.id}-${i}`), this.views.get(s.id)!, Rng.fork(seed, `mm-${s.id}-${i}`), usd(a.marketMakers.collateralUsd * 1.1) + FEE_RESERVE, a.marketMakers);
        add(mm);
        this.alwaysActive.push(mm);
      }
    }
    if (a.whale) {
      const w = a.whale;
      const idx = this.agents.length;
      const whale = new Whale(idx, new SimKey(seed, 'whale'), this.views.get(w.market)!, Rng.fork(seed, 'whale'), usd(w.collateralUsd * 3) + FEE_RESERVE, w, a.margin.warnRatio);
      add(whale);
      this.alwaysActive.push(whale);
    }
    // traders
    const pop = Rng.fork(seed, 'population');
    const marketWeights = c.markets.map((m) => m.weight);
    const mixTotal = a.mix.leveraged + a.mix.momentum;
    const styles: MarginStyle[] = ['prompt', 'late', 'never'];
    const styleWeights = [a.margin.prompt, a.margin.late, a.margin.never];
    for (let i = 0; i < a.traders; i++) {
      const idx = this.agents.length;
      const kind = pop.float() * mixTotal < a.mix.leveraged ? 'leveraged' : 'momentum';
      const market = this.specs[pop.weighted(marketWeights)]!;
      const rng = Rng.fork(seed, `trader-${i}`);
      const cfg = kind === 'leveraged' ? a.leveraged : a.momentum;
      const collateral = Math.round(drawBuckets(rng, cfg.collateralUsd) * 100) / 100;
      const style = styles[rng.weighted(styleWeights)]!;
      let firstEntry: number | undefined;
      if (kind === 'leveraged') {
        // absolute block (height): during warm-up (after the makers' first quotes) or in the first half of the scenario
        firstEntry = rng.chance(cfg.warmupShare) ? 3 + rng.int(Math.max(1, this.warmup - 8)) : this.warmup + 1 + rng.int(Math.max(1, Math.floor(this.length / 2)));
      }
      const bank = usd(collateral * (1 + a.margin.reserveMultiple)) + FEE_RESERVE * 2n;
      const t = new Trader(idx, new SimKey(seed, `trader-${i}`), this.views.get(market.id)!, rng, bank, {
        kind,
        cfg,
        margin: a.margin,
        takerFeePpm: c.params.takerFeePpm,
        style,
        collateralUsd: collateral,
        firstEntry,
      });
      add(t);
      if (t.firstWake !== undefined) this.sched.at(t.firstWake, idx);
      if (kind === 'momentum') {
        let list = this.momentum.get(market.id);
        if (!list) this.momentum.set(market.id, (list = []));
        list.push(t);
      }
    }
  }

  /** Accounts by kind (for the summary). */
  population(): Record<string, number> {
    const out: Record<string, number> = { feeders: this.feeders.length };
    for (const a of this.agents) out[a.kind] = (out[a.kind] ?? 0) + 1;
    const styles: Record<string, number> = {};
    for (const a of this.agents) if (a instanceof Trader) styles[`margin_${a.style}`] = (styles[`margin_${a.style}`] ?? 0) + 1;
    return { ...out, ...styles };
  }

  // ------------------------------------------------------------------ blocks

  private query<T>(path: string): T {
    const r = this.app.query({ path, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) throw new Error(`query ${path}: ${r.codespace}/${r.code} ${r.log}`);
    return JSON.parse(Buffer.from(r.value).toString()) as T;
  }

  private ctx(height: number, sblock: number): BlockCtx {
    return { height: BigInt(height), sblock, markets: this.views, sched: this.sched, query: (p) => this.query(p) };
  }

  /** Run `n` more blocks (default: to the end). */
  run(n = this.totalBlocks - this.done): void {
    const end = Math.min(this.totalBlocks, this.done + n);
    while (this.done < end) this.step();
  }

  /** One block: build the txs, FinalizeBlock, Commit, then read the results. */
  step(): FinalizeBlockResult {
    if (this.finished) throw new Error('the simulation has finished');
    const c = this.config;
    const height = this.done + 1;
    const sblock = height - 1 - this.warmup; // scenario block; < 0 during warm-up
    const k = Math.max(0, sblock);
    const timeMs = sblock >= 0 ? this.series[0]!.ticks[k]!.timeMs : this.startMs - (this.warmup - (height - 1)) * c.blockMs;
    const ctx = this.ctx(height, sblock);
    const txs: Uint8Array[] = [];
    const senders: Array<Agent | Feeder> = [];
    const fees: bigint[] = [];
    const maxGas = 190_000_000n;
    let gas = 0n;
    const T = this.timing;
    const tStart = performance.now();
    let signMs = 0;
    this.books.clear();
    const send = (who: Agent | Feeder, key: SimKey, msgs: Any[], accountNumber: bigint, sequence: bigint): boolean => {
      let fills = 0;
      if (who instanceof Agent) for (const o of who.takerOrders) fills += this.fillsFor(who.spec.id, o.side, o.price, o.quantity);
      const g = gasFor(msgs.length, fills);
      if (gas + g > maxGas) return false;
      gas += g;
      const ts = performance.now();
      txs.push(signTx(key, msgs, { chainId: c.chainId, accountNumber, sequence, gas: g }));
      signMs += performance.now() - ts;
      T.msgs += msgs.length;
      senders.push(who);
      fees.push((g * MIN_GAS_PRICE_MICRO + 999_999n) / 1_000_000n);
      return true;
    };

    for (const v of this.views.values()) v.setReference(this.reference(v.spec.id, sblock));
    // 1. oracle: every feeder reports every market
    for (let f = 0; f < this.feeders.length; f++) {
      const fd = this.feeders[f]!;
      const prices = this.specs.map((s) => [s.id, this.feederPrice(f, s.id, sblock)] as const);
      send(fd, fd.key, [updatePricesAny(fd.key.address, prices)], fd.accountNumber, fd.sequence);
    }
    // 2. market makers and the whale (every block), 3. traders woken by time or price, in a seeded order
    for (const a of this.alwaysActive) {
      const msgs = a.act(ctx);
      if (msgs.length) send(a, a.key, msgs, a.accountNumber, a.sequence);
    }
    const due = this.sched.due(height, this.views, (i) => this.agents[i]!.version);
    for (const [marketId, list] of this.momentum) {
      const v = this.views.get(marketId)!;
      const mc = c.agents.momentum;
      const move = v.movePpm(mc.lookbackBlocks);
      if (sblock < 0 || Math.abs(move) < mc.thresholdPpm) continue;
      const dir = move > 0 ? 1 : -1;
      for (const t of list) if (t.onSignal(height, dir)) due.push(t.index);
    }
    const order = [...new Set(due)].sort((x, y) => x - y);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.blockRng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const idx of order) {
      const a = this.agents[idx]!;
      const msgs = a.act(ctx);
      if (!msgs.length) continue;
      if (!send(a, a.key, msgs, a.accountNumber, a.sequence)) this.sched.at(height + 1, idx); // block full: next block (its messages are rebuilt)
    }

    // FinalizeBlock + Commit
    const t1 = performance.now();
    T.sign += signMs;
    T.agents += t1 - tStart - signMs;
    const res = this.app.finalizeBlock({ txs, height: BigInt(height), timeNs: BigInt(timeMs) * 1_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    const t2 = performance.now();
    this.app.commit();
    const t3 = performance.now();
    T.finalize += t2 - t1;
    T.commit += t3 - t2;
    T.blocks++;
    T.txs += txs.length;
    this.done = height;

    // results, in execution order: BeginBlock events, each tx, EndBlock events
    const touched = new Set<number>();
    const oracleOf = (m: number) => this.views.get(m)!.oracle;
    const newOracle = new Map<number, bigint>();
    const handle = (e: AbciEvent) => {
      this.metrics.event(e, height, oracleOf);
      this.applyEvent(e, touched, newOracle);
    };
    const phaseOf = (e: AbciEvent) => e.attributes.find((a) => a.key === 'mode')?.value;
    for (const e of res.events) if (phaseOf(e) === 'BeginBlock') handle(e);
    let failed = 0;
    for (let i = 0; i < res.txResults.length; i++) {
      const r = res.txResults[i]!;
      const who = senders[i]!;
      this.metrics.noteTx(r.code, r.codespace, r.log, who instanceof Agent ? who.kind : 'feeder');
      if (r.code !== 0) failed++;
      if (who instanceof Agent) {
        who.onResult(r, fees[i]!, ctx);
        touched.add(who.index);
      } else if (this.antePassed(r)) who.sequence += 1n;
      for (const e of r.events) handle(e);
    }
    for (const e of res.events) if (phaseOf(e) !== 'BeginBlock') handle(e);
    for (const v of this.views.values()) v.push(newOracle.get(v.spec.id) ?? v.oracle);
    const after = this.ctx(height + 1, sblock + 1);
    for (const idx of [...touched].sort((x, y) => x - y)) this.agents[idx]!.afterBlock(after);

    const t4 = performance.now();
    this.record(height, timeMs, sblock, txs.length, failed);
    if (sblock === -1) this.atScenarioStart = this.agents.map(agentCounts);
    const t5 = performance.now();
    this.checkInvariants(height);
    const t6 = performance.now();
    T.results += t4 - t3;
    T.measure += t5 - t4;
    T.invariants += t6 - t5;
    this.progress(height, sblock);
    return res;
  }

  /** The committed book per market (price, quantity, orders per level), queried once per block when a taker needs it. */
  private readonly books = new Map<number, { bids: Array<[string, string, number]>; asks: Array<[string, string, number]> }>();

  /**
   * Fills a taker order could make against the committed book (orders within
   * its limit until its quantity is covered), with room for orders added
   * earlier in the same block: what a client's gas simulation would see.
   */
  private fillsFor(marketId: number, side: 'buy' | 'sell', limit: bigint, quantity: bigint): number {
    let book = this.books.get(marketId);
    if (!book) {
      book = this.query<{ bids: Array<[string, string, number]>; asks: Array<[string, string, number]> }>(`clob/book/${marketId}/1000`);
      this.books.set(marketId, book);
    }
    let left = quantity;
    let orders = 0;
    for (const [p, q, n] of side === 'buy' ? book.asks : book.bids) {
      const price = BigInt(p);
      if (side === 'buy' ? price > limit : price < limit) break;
      orders += n;
      left -= BigInt(q);
      if (left <= 0n) break;
    }
    // makers requote earlier in the same block (their txs come first): room for a whole ladder per maker
    const mm = this.config.agents.marketMakers;
    return Math.ceil(orders * 1.5) + mm.perMarket * mm.levels + 6;
  }

  private antePassed(r: ExecTxResult): boolean {
    return r.code === 0 || r.events.some((e) => e.type === 'tx');
  }

  /** The price feeder f reports for a market at scenario block k: the reference, its noise, and any spike it was told to inject. */
  feederPrice(f: number, marketId: number, sblock: number): bigint {
    const c = this.config.oracle;
    const ref = this.reference(marketId, sblock);
    let ppm = 0n;
    if (c.noisePpm > 0) ppm += BigInt(this.feeders[f]!.rng.int(2 * c.noisePpm + 1) - c.noisePpm);
    for (const s of c.spikes) {
      const liar = Math.min(s.feeder, this.feeders.length - 1);
      if (liar === f && s.market === marketId && sblock >= s.block && sblock < s.block + s.blocks) ppm += BigInt(s.movePpm);
    }
    const p = ref + (ref * ppm) / 1_000_000n;
    return p > 0n ? p : 1n;
  }

  private attr(e: AbciEvent, key: string): string | undefined {
    for (const a of e.attributes) if (a.key === key) return a.value;
    return undefined;
  }

  /** Keep agents' views exact: fills, cancels, liquidations, ADL; the oracle. */
  private applyEvent(e: AbciEvent, touched: Set<number>, newOracle: Map<number, bigint>): void {
    switch (e.type) {
      case 'clob.fill': {
        const size = BigInt(this.attr(e, 'size')!);
        const price = BigInt(this.attr(e, 'price')!);
        const takerBuys = this.attr(e, 'taker_side') === 'buy';
        const taker = this.byAddress.get(this.attr(e, 'taker_owner')!);
        const maker = this.byAddress.get(this.attr(e, 'maker_owner')!);
        if (taker) {
          taker.onFill(takerBuys ? size : -size, price, undefined, undefined);
          touched.add(taker.index);
        }
        if (maker) {
          maker.onFill(takerBuys ? -size : size, price, BigInt(this.attr(e, 'maker_order_id')!), BigInt(this.attr(e, 'maker_remaining')!));
          touched.add(maker.index);
        }
        return;
      }
      case 'clob.order_cancelled': {
        const a = this.byAddress.get(this.attr(e, 'owner')!);
        if (a) {
          a.onCancel(BigInt(this.attr(e, 'order_id')!));
          touched.add(a.index);
        }
        return;
      }
      case 'liquidation.liquidated': {
        const a = this.byAddress.get(this.attr(e, 'owner')!);
        if (a) {
          a.onLiquidated(this.done - 1 - this.warmup);
          touched.add(a.index);
        }
        return;
      }
      case 'liquidation.adl': {
        const size = BigInt(this.attr(e, 'size')!);
        const price = BigInt(this.attr(e, 'price')!);
        const cp = this.byAddress.get(this.attr(e, 'counterparty_owner')!);
        const k = cp?.kind ?? 'other';
        this.metrics.noteAdlCounterparty(k);
        for (const key of ['owner', 'counterparty_owner']) {
          const a = this.byAddress.get(this.attr(e, key)!);
          if (a) {
            a.onAdl(size, price, key === 'counterparty_owner');
            touched.add(a.index);
          }
        }
        return;
      }
      case 'prices.update':
        newOracle.set(Number(this.attr(e, 'market_id')), BigInt(this.attr(e, 'price')!));
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- measure

  private record(height: number, timeMs: number, sblock: number, txs: number, failed: number): void {
    const k = this.app.keepers;
    const state = this.app.state;
    const markets = new Map<number, { reference: bigint; oracle: bigint; oi: bigint; bestBid: bigint | undefined; bestAsk: bigint | undefined }>();
    for (const s of this.specs) {
      const eng = k.clob.engine(s.id);
      const bb = eng?.bestBid();
      const ba = eng?.bestAsk();
      markets.set(s.id, {
        reference: this.reference(s.id, sblock),
        oracle: this.views.get(s.id)!.oracle,
        oi: k.perpetuals.openInterest(state, s.id),
        bestBid: bb === undefined ? undefined : BigInt(bb),
        bestAsk: ba === undefined ? undefined : BigInt(ba),
      });
    }
    const last = k.liquidation.last;
    this.metrics.endBlock({
      height,
      timeMs,
      sblock,
      txs,
      failed,
      insuranceFund: k.liquidation.insuranceFund(state),
      badDebt: k.subaccounts.totalBadDebt(state),
      liquidatable: last.flaggedCount,
      carried: last.carriedCount,
      markets,
    });
    if (sblock >= 0 && (sblock % this.marginEvery === 0 || sblock === this.length - 1)) this.sampleMargins(height, timeMs, sblock);
  }

  /** Each agent's subaccount key in the liquidation index (agents never change). */
  private indexKeys: string[] | undefined;

  /** NC / MMR of every account with a position, from the liquidation index's exact linear form (read-only). */
  private sampleMargins(height: number, timeMs: number, sblock: number): void {
    const lk = this.app.keepers.liquidation;
    const coords = lk.coords(this.app.state);
    const cap = this.config.report.marginRatioCap;
    const out: number[] = [];
    let below = 0;
    // the index keys, built once: a key string reused keeps its hash, a new one is hashed on every lookup
    const keys = (this.indexKeys ??= this.agents.map((a) => `${a.address}/0`));
    for (let i = 0; i < this.agents.length; i++) {
      const a = this.agents[i]!;
      if (a.position === 0n) continue;
      const acc = lk.index.get(keys[i]!);
      if (!acc) continue;
      let mmr = 0n;
      for (const p of acc.positions) {
        const c = coords.get(p.marketId)!;
        mmr += (p.size < 0n ? -p.size : p.size) * c.mmf * c.base;
      }
      if (mmr === 0n) continue;
      const m = surplus(acc, coords);
      const ratio = Number(((m + mmr) * 10_000n) / mmr) / 10_000;
      if (ratio < 1) below++;
      out.push(Math.max(-1, Math.min(cap, ratio)));
    }
    out.sort((x, y) => x - y);
    this.metrics.margin.push({ height, timeMs, sblock, ratios: Float64Array.from(out), below1: below });
  }

  private checkInvariants(height: number): void {
    const mode = this.config.checkInvariants;
    const run = mode === 'every' || (typeof mode === 'number' && height % mode === 0) || (mode !== 'never' && height === this.totalBlocks);
    if (!run) return;
    this.invariantChecks++;
    const broken = this.app.runInvariants();
    if (broken.length) throw new InvariantViolation(height, broken);
  }

  private progress(height: number, sblock: number): void {
    const cb = this.opts.onProgress;
    if (!cb) return;
    const now = performance.now();
    if (now - this.lastProgress < 100 && height !== this.totalBlocks) return;
    this.lastProgress = now;
    const m = this.metrics;
    cb({
      block: height,
      total: this.totalBlocks,
      sblock,
      liquidations: m.scenario.liqCount,
      badDebtUsd: Number(m.badDebt) / 1e6,
      insuranceFundUsd: Number(m.insuranceEnd) / 1e6,
      elapsedMs: now - this.t0,
    });
  }

  /** Each agent's counters after the last warm-up block, so the summary's agent figures are the scenario's. */
  private atScenarioStart: AgentCounts[] | undefined;

  /** The JSON summary of the run so far. */
  summary(): Summary {
    const c = this.config;
    // the scenario's counters are each agent's now less its counters at the warm-up's end (all warm-up until then)
    const scenario = { margin_top_ups: 0, accounts_liquidated: 0, accounts_deleveraged: 0, maker_quotes_placed: 0 };
    const warmup = { ...scenario };
    const tally = (into: typeof scenario, n: AgentCounts) => {
      into.margin_top_ups += n.topUps;
      into.maker_quotes_placed += n.quotes;
      // liquidated: through the book or closed by ADL; deleveraged: a solvent counterparty of an ADL fill
      if (n.liquidated > 0) into.accounts_liquidated++;
      if (n.deleveraged > 0) into.accounts_deleveraged++;
    };
    this.agents.forEach((a, i) => {
      const now = agentCounts(a);
      const start = this.atScenarioStart?.[i] ?? now;
      tally(warmup, start);
      tally(scenario, { topUps: now.topUps - start.topUps, quotes: now.quotes - start.quotes, liquidated: now.liquidated - start.liquidated, deleveraged: now.deleveraged - start.deleveraged });
    });
    const agentStats: Record<string, number | string> = { ...scenario };
    const ticks0 = this.series[0]!.ticks;
    return buildSummary(this.metrics, {
      scenario: c.name,
      description: c.description,
      seed: c.seed,
      configHash: this.configHash,
      warmupBlocks: this.warmup,
      scenarioBlocks: Math.max(0, Math.min(this.length, this.done - this.warmup)),
      startTime: new Date(ticks0[0]!.timeMs).toISOString(),
      endTime: new Date(ticks0[Math.max(0, Math.min(this.length, this.done - this.warmup) - 1)]!.timeMs).toISOString(),
      accounts: this.population(),
      agents: agentStats,
      warmupAgents: warmup,
      finalHeight: this.done,
      appHash: Buffer.from(this.app.appHash).toString('hex').toUpperCase(),
      invariantChecks: this.invariantChecks,
    });
  }

  close(): void {
    this.app.close();
  }
}

interface AgentCounts {
  topUps: number;
  quotes: number;
  /** Liquidations through the book plus positions closed by ADL. */
  liquidated: number;
  /** ADL fills as the solvent counterparty. */
  deleveraged: number;
}

function agentCounts(a: Agent): AgentCounts {
  return {
    topUps: a instanceof Trader || a instanceof Whale ? a.topUps : 0,
    quotes: a instanceof MarketMaker ? a.quotes : 0,
    liquidated: a.liquidations + a.adlClosed,
    deleveraged: a.adls,
  };
}
