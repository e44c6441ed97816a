/**
 * Directional traders.
 *
 * Trader: deposits its collateral and opens a position of leverage × equity
 * (a taker IOC limit a little through the oracle, or a passive post-only
 * limit inside it), holds it for a while and closes it reduce-only. While the
 * position is open it watches its own margin estimate: below warnRatio a
 * "prompt" trader deposits more a block or two later, a "late" one after a
 * long delay (often after the liquidation engine has acted), a "never" one
 * does nothing. After closing (or being liquidated) it may withdraw and come
 * back. Leveraged traders choose their side with a directional bias and enter
 * at a random time; momentum traders enter in the direction of a move larger
 * than their threshold and leave when it reverses.
 *
 * Whale: one large account taking liquidity in chunks from a given block
 * (the thin-market squeeze).
 */
import type { Any } from 'cosmjs-types/google/protobuf/any';
import type { MomentumConfig, SimConfig, TraderConfig, WhaleConfig } from '../config.js';
import { sizeForUsd, toTick } from '../market.js';
import { placeAny } from '../tx.js';
import type { Rng } from '../rng.js';
import type { SimKey } from '../tx.js';
import type { MarketView } from '../world.js';
import { Agent, drawBuckets, drawRange, usdToUusdc, type BlockCtx, type MarginStyle } from './base.js';

type Phase = 'idle' | 'entering' | 'open' | 'exiting';

/** Keep this much (uusdc) in the bank for fees. */
export const FEE_RESERVE = 2_000_000n;

export interface TraderInit {
  kind: 'leveraged' | 'momentum';
  cfg: TraderConfig | MomentumConfig;
  margin: SimConfig['agents']['margin'];
  takerFeePpm: number;
  style: MarginStyle;
  collateralUsd: number;
  /** Absolute block of the first entry (leveraged) or undefined (momentum: on a signal). */
  firstEntry: number | undefined;
}

export class Trader extends Agent {
  readonly kind: 'leveraged' | 'momentum';
  phase: Phase = 'idle';
  readonly style: MarginStyle;
  readonly c0Usd: number;
  readonly leverage: number;
  private dir: 1 | -1;
  private entryAt = -1;
  private exitAt = -1;
  private topUpAt = -1;
  private withdrawAt = -1;
  private passiveUntil = -1;
  private cooldownUntil = -1;
  private warnPrice = NaN;
  private stopPrice = NaN;
  private tries = 0;
  private funded = false;
  private lastArmedPosition = 0n;
  private lastArmedCollateral = NaN;
  topUps = 0;
  entries = 0;

  constructor(index: number, key: SimKey, market: MarketView, rng: Rng, bank: bigint, private readonly o: TraderInit) {
    super(index, key, market, rng, bank);
    this.kind = o.kind;
    this.style = o.style;
    this.c0Usd = o.collateralUsd;
    const s = market.spec;
    const maxLev = 0.95 / (Number(s.imfPpm) / 1e6 + o.cfg.entrySlippagePpm / 1e6 + Math.max(0, o.takerFeePpm) / 1e6);
    this.leverage = Math.max(0.5, Math.min(drawBuckets(rng, o.cfg.leverage), maxLev));
    this.dir = rng.chance(o.cfg.longBias) ? 1 : -1;
    if (o.firstEntry !== undefined) this.entryAt = o.firstEntry;
  }

  /** Absolute block of the first scheduled wake (the runner schedules it). */
  get firstWake(): number | undefined {
    return this.entryAt >= 0 ? this.entryAt : undefined;
  }

  /** Momentum: a signal in direction `dir` this block; true if the trader acts now. */
  onSignal(h: number, dir: 1 | -1): boolean {
    if (this.kind !== 'momentum' || this.phase !== 'idle' || h < this.cooldownUntil || this.entryAt >= 0) return false;
    if (!this.rng.chance((this.o.cfg as MomentumConfig).joinChance)) return false;
    this.dir = dir;
    this.entryAt = h;
    return true;
  }

  act(ctx: BlockCtx): Any[] {
    const h = Number(ctx.height);
    if (this.stale) this.resync(ctx);
    this.dropExpired(ctx.height);
    const msgs: Any[] = [];
    const m = this.market;
    const s = this.spec;
    const cfg = this.o.cfg;

    // margin: top-up due, or the warning level just crossed
    if (this.topUpAt >= 0 && h >= this.topUpAt) {
      this.topUpAt = -1;
      const amount = usdToUusdc(this.o.margin.topUpFraction * this.c0Usd);
      if (this.position !== 0n && amount > 0n && this.bank >= amount + FEE_RESERVE) {
        msgs.push(this.deposit(amount));
        this.topUps++;
      }
    }
    if (this.phase === 'open' && this.style !== 'never' && this.topUpAt < 0 && this.crossed(this.warnPrice)) {
      const d = this.style === 'prompt' ? this.o.margin.promptDelayBlocks : this.o.margin.lateDelayBlocks;
      this.topUpAt = h + Math.max(1, drawRange(this.rng, d));
      ctx.sched.at(this.topUpAt, this.index);
    }

    // exit: time's up, or (momentum) the move reversed
    if ((this.phase === 'open' && ((this.exitAt >= 0 && h >= this.exitAt) || this.crossed(this.stopPrice))) || (this.phase === 'exiting' && this.position !== 0n)) {
      if (this.position !== 0n) {
        const side = this.position > 0n ? 'sell' : 'buy';
        const slip = cfg.exitSlippagePpm / 1e6;
        const price = toTick(s, m.oracleNum * (side === 'sell' ? 1 - slip : 1 + slip), side);
        const qty = this.position > 0n ? this.position : -this.position;
        msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side, price, quantity: qty, tif: 'ioc', reduceOnly: true })));
        this.phase = 'exiting';
        this.exitAt = -1;
      }
    }

    // withdraw profits when flat
    if (this.phase === 'idle' && this.withdrawAt >= 0 && h >= this.withdrawAt && this.position === 0n) {
      this.withdrawAt = -1;
      const sub = ctx.query<{ collateral: string }>(`subaccounts/subaccount/${this.address}/0`);
      const coll = BigInt(sub.collateral);
      const c0 = usdToUusdc(this.c0Usd);
      if (coll > c0 && this.openOrders.size === 0) msgs.push(this.withdraw(coll - c0));
      this.collateralUsd = Number(coll) / 1e6;
    }

    // entry
    if (this.phase === 'idle' && this.entryAt >= 0 && h >= this.entryAt) {
      this.entryAt = -1;
      msgs.push(...this.enter(ctx, h));
    }
    return msgs;
  }

  private enter(ctx: BlockCtx, h: number): Any[] {
    const msgs: Any[] = [];
    const s = this.spec;
    const cfg = this.o.cfg;
    if (!this.funded || this.equityUsd() < 0.5 * this.c0Usd) {
      if (this.funded) this.resync(ctx);
      const amount = usdToUusdc(this.c0Usd);
      if (this.bank >= amount + FEE_RESERVE) msgs.push(this.deposit(amount));
      else if (this.equityUsd() < 0.25 * this.c0Usd) return []; // broke: stays out
      this.funded = true;
    }
    const notional = this.leverage * Math.max(0, this.equityUsd());
    const oracle = this.market.oracleNum;
    const size = sizeForUsd(s, notional, this.market.oracle);
    if (size <= 0n) return msgs;
    const side = this.dir > 0 ? 'buy' : 'sell';
    const passive = this.entries === 0 && this.rng.chance(cfg.passiveShare);
    this.entries++;
    this.phase = 'entering';
    if (passive) {
      const off = cfg.passiveOffsetPpm / 1e6;
      const price = toTick(s, oracle * (side === 'buy' ? 1 - off : 1 + off), side);
      const gtb = BigInt(h + cfg.passiveTtlBlocks);
      msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side, price, quantity: size, tif: 'post_only', goodTilBlock: gtb })));
      this.passiveUntil = h + cfg.passiveTtlBlocks;
    } else {
      const slip = cfg.entrySlippagePpm / 1e6;
      const price = toTick(s, oracle * (side === 'buy' ? 1 + slip : 1 - slip), side);
      msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side, price, quantity: size, tif: 'ioc' })));
    }
    return msgs;
  }

  /** Has the oracle reached a trigger price on the losing side of the position? */
  private crossed(p: number): boolean {
    if (!Number.isFinite(p) || this.position === 0n) return false;
    return this.position > 0n ? this.market.oracleNum <= p : this.market.oracleNum >= p;
  }

  override afterBlock(ctx: BlockCtx): void {
    const h = Number(ctx.height);
    const cfg = this.o.cfg;
    if (this.phase === 'entering') {
      const resting = this.openOrders.size > 0;
      if (this.position !== 0n && !resting) this.opened(ctx, h);
      else if (this.position === 0n && !resting) {
        // nothing filled (IOC outside the book, passive order expired, or the tx failed)
        this.phase = 'idle';
        if (++this.tries < 4) {
          this.entryAt = h + 1 + this.rng.int(10);
          ctx.sched.at(this.entryAt, this.index);
        } else this.flat(ctx, h, false);
      }
      return;
    }
    if (this.phase === 'exiting') {
      if (this.position === 0n) this.flat(ctx, h, true);
      else {
        this.exitAt = h + 1 + this.rng.int(3);
        this.phase = 'open';
        this.arm(ctx);
        ctx.sched.at(this.exitAt, this.index);
      }
      return;
    }
    if (this.phase === 'open') {
      if (this.position === 0n) this.flat(ctx, h, false);
      else if (this.position !== this.lastArmedPosition || this.collateralUsd !== this.lastArmedCollateral) this.arm(ctx);
    }
    void cfg;
  }

  private opened(ctx: BlockCtx, h: number): void {
    this.phase = 'open';
    this.tries = 0;
    this.exitAt = h + drawRange(this.rng, this.o.cfg.holdBlocks);
    ctx.sched.at(this.exitAt, this.index);
    if (this.kind === 'momentum') {
      const stop = (this.o.cfg as MomentumConfig).stopPpm / 1e6;
      this.stopPrice = this.position > 0n ? this.entry * (1 - stop) : this.entry * (1 + stop);
    }
    this.arm(ctx);
  }

  /** After the position went to zero (closed, or liquidated / deleveraged). */
  private flat(ctx: BlockCtx, h: number, closed: boolean): void {
    this.phase = 'idle';
    this.version++; // drop triggers
    this.warnPrice = NaN;
    this.stopPrice = NaN;
    this.topUpAt = -1;
    this.exitAt = -1;
    this.tries = 0;
    const cfg = this.o.cfg;
    if (!closed) this.stale = true; // liquidated: learn the collateral left from the chain
    if (closed && this.collateralUsd > this.c0Usd && this.rng.chance(cfg.withdrawChance)) {
      this.withdrawAt = h + 1 + this.rng.int(20);
      ctx.sched.at(this.withdrawAt, this.index);
    }
    if (this.rng.chance(cfg.reentryChance)) {
      const wait = drawRange(this.rng, cfg.cooldownBlocks);
      if (this.kind === 'momentum') this.cooldownUntil = h + wait;
      else {
        this.entryAt = h + Math.max(1, wait);
        if (this.rng.chance(0.5)) this.dir = this.dir > 0 ? -1 : 1;
        ctx.sched.at(this.entryAt, this.index);
      }
    } else if (this.kind === 'momentum') this.cooldownUntil = Number.MAX_SAFE_INTEGER;
  }

  /** (Re)arm the price triggers: the margin warning level and, for momentum, the stop. */
  private arm(ctx: BlockCtx): void {
    this.version++;
    this.lastArmedPosition = this.position;
    this.lastArmedCollateral = this.collateralUsd;
    const s = this.spec;
    const q = Math.abs(Number(this.position)) * s.basePerQuantum * s.usdPerPriceUnit; // USD per price unit
    const w = this.o.margin.warnRatio;
    const mmf = Number(s.mmfPpm) / 1e6;
    const c = this.collateralUsd;
    const long = this.position > 0n;
    this.warnPrice = NaN;
    if (this.style !== 'never' && q > 0) {
      const p = long ? (q * this.entry - c) / (q * (1 - w * mmf)) : (c + q * this.entry) / (q * (1 + w * mmf));
      if (p > 0 && Number.isFinite(p)) this.warnPrice = p;
    }
    for (const p of [this.warnPrice, this.stopPrice]) {
      if (!Number.isFinite(p)) continue;
      if (long) ctx.sched.whenBelow(s.id, p, this.index, this.version);
      else ctx.sched.whenAbove(s.id, p, this.index, this.version);
    }
  }
}

/** The whale: one account taking liquidity in chunks (thin-market squeeze). Acts every block. */
export class Whale extends Agent {
  readonly kind = 'whale' as const;
  private funded = false;
  private done = 0;
  private closed = false;
  topUps = 0;

  constructor(index: number, key: SimKey, market: MarketView, rng: Rng, bank: bigint, private readonly cfg: WhaleConfig, private readonly warnRatio: number) {
    super(index, key, market, rng, bank);
  }

  act(ctx: BlockCtx): Any[] {
    const c = this.cfg;
    const s = this.spec;
    const msgs: Any[] = [];
    if (this.stale) this.resync(ctx);
    if (!this.funded) {
      const amount = usdToUusdc(c.collateralUsd);
      if (this.bank < amount + FEE_RESERVE) return [];
      this.funded = true;
      return [this.deposit(amount)];
    }
    const b = ctx.sblock;
    // defend the position: deposit a tenth of the collateral when the estimated NC/MMR falls under the warning ratio
    const mmr = this.notionalUsd() * (Number(s.mmfPpm) / 1e6);
    if (this.position !== 0n && mmr > 0 && this.equityUsd() / mmr < this.warnRatio) {
      const amount = usdToUusdc(c.collateralUsd / 10);
      if (this.bank >= amount + FEE_RESERVE) {
        msgs.push(this.deposit(amount));
        this.topUps++;
      }
    }
    if (c.closeBlock > 0 && b >= c.closeBlock && !this.closed && this.position !== 0n) {
      this.closed = true;
      const side = this.position > 0n ? 'sell' : 'buy';
      const price = toTick(s, this.market.oracleNum * (side === 'sell' ? 1 - c.slippagePpm / 1e6 : 1 + c.slippagePpm / 1e6), side);
      msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side, price, quantity: this.position > 0n ? this.position : -this.position, tif: 'ioc', reduceOnly: true })));
      return msgs;
    }
    if (b >= c.startBlock && this.done < c.chunks && (b - c.startBlock) % c.everyBlocks === 0 && !this.closed) {
      this.done++;
      const chunkUsd = (c.leverage * c.collateralUsd) / c.chunks;
      const size = sizeForUsd(s, chunkUsd, this.market.oracle);
      const price = toTick(s, this.market.oracleNum * (c.side === 'buy' ? 1 + c.slippagePpm / 1e6 : 1 - c.slippagePpm / 1e6), c.side);
      if (size > 0n) msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side: c.side, price, quantity: size, tif: 'ioc' })));
    }
    return msgs;
  }
}
