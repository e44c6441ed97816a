/**
 * A market maker quoting a ladder around the price (by default the external
 * reference price the feeders report in the same block — makers watch the
 * same venues; or the chain's oracle after the previous block): `levels`
 * post-only orders per side on a price grid `levelStepPpm` apart, the first
 * at least halfSpreadPpm from the mid. Quotes are skewed against inventory
 * and stop on the side that would grow it past maxInventoryUsd; spreads widen
 * in fast moves and the maker pulls every quote when the move is violent.
 *
 * Quoting on a grid keeps churn (and the maker's txs) small, as real makers
 * do to keep queue priority: each block the maker computes the ladder it
 * wants and sends one tx only if it differs from what rests — cancelling the
 * levels that left the ladder and placing the new ones.
 */
import type { Any } from 'cosmjs-types/google/protobuf/any';
import type { MarketMakerConfig } from '../config.js';
import { sizeForUsd } from '../market.js';
import { cancelAny, placeAny } from '../tx.js';
import { Agent, type BlockCtx, usdToUusdc } from './base.js';
import type { Rng } from '../rng.js';
import type { SimKey } from '../tx.js';
import type { MarketView } from '../world.js';

interface Level {
  side: 'buy' | 'sell';
  price: bigint;
  size: bigint;
}

export class MarketMaker extends Agent {
  readonly kind = 'market_maker' as const;
  private funded = false;
  private pulledUntil = -1_000_000;
  private readonly sizeFactor: number;
  /** Grid step (price units, a multiple of the tick) and the mid it was set at. */
  private grid = 0n;
  private gridMid = 0;
  /** Quotes placed over the run. */
  quotes = 0;

  constructor(index: number, key: SimKey, market: MarketView, rng: Rng, bank: bigint, private readonly cfg: MarketMakerConfig) {
    super(index, key, market, rng, bank);
    this.sizeFactor = rng.range(cfg.sizeJitter[0], cfg.sizeJitter[1]);
  }

  act(ctx: BlockCtx): Any[] {
    const c = this.cfg;
    const msgs: Any[] = [];
    if (!this.funded) {
      const amount = usdToUusdc(c.collateralUsd);
      if (amount > this.bank - 10_000_000n) return [];
      msgs.push(this.deposit(amount));
      this.funded = true;
    }
    if (this.stale) this.resync(ctx);
    this.dropExpired(ctx.height);
    const m = this.market;
    const ref = c.anchor === 'reference';
    const move = ref ? m.maxReferenceMovePpm(c.lookbackBlocks) : m.maxMovePpm(c.lookbackBlocks);
    if (move > c.pullMovePpm) this.pulledUntil = ctx.sblock + c.pullBlocks;
    const wanted = ctx.sblock < this.pulledUntil ? [] : this.ladder(ref ? m.referenceNum : m.oracleNum, move);

    // keep what rests at a wanted level (with about the wanted size and not about to expire), cancel the rest, place what is missing
    const soon = ctx.height + 2n;
    const missing = [...wanted];
    for (const [id, o] of this.openOrders) {
      const i = missing.findIndex((l) => l.side === o.side && l.price === o.price && o.remaining * 4n >= l.size * 3n && o.remaining * 4n <= l.size * 5n);
      const expiring = o.goodTilBlock > 0n && o.goodTilBlock < soon;
      if (i >= 0 && !expiring) missing.splice(i, 1);
      else if (!expiring) msgs.push(cancelAny(this.address, id));
    }
    const gtb = ctx.height + BigInt(c.ttlBlocks);
    for (const l of missing) {
      msgs.push(placeAny(this.placing({ owner: this.address, marketId: this.spec.id, clientId: this.clientId(), side: l.side, price: l.price, quantity: l.size, tif: 'post_only', goodTilBlock: gtb })));
      this.quotes++;
    }
    return msgs;
  }

  /** The ladder wanted now. */
  private ladder(mid: number, move: number): Level[] {
    const c = this.cfg;
    const s = this.spec;
    const tick = Number(s.tickSize);
    if (this.grid === 0n || Math.abs(mid / this.gridMid - 1) > 0.2) {
      this.grid = BigInt(Math.max(1, Math.round((mid * c.levelStepPpm) / 1e6 / tick))) * s.tickSize;
      this.gridMid = mid;
    }
    const g = Number(this.grid);
    const px = mid * s.usdPerPriceUnit;
    const invUsd = Number(this.position) * s.basePerQuantum * px;
    const ratio = Math.max(-1, Math.min(1, invUsd / c.maxInventoryUsd));
    const center = mid * (1 - (ratio * c.skewPpm) / 1e6);
    const half = (mid * c.halfSpreadPpm * (move > c.widenMovePpm ? c.widenFactor : 1)) / 1e6;
    // risk limit: what one side may add, from the estimated equity at 80% of the initial requirement
    const imf = Number(s.imfPpm) / 1e6;
    const room = Math.max(0, (this.equityUsd() * 0.8) / imf);
    const levelUsd = c.levelSizeUsd * this.sizeFactor;
    const out: Level[] = [];
    for (const side of ['buy', 'sell'] as const) {
      if (side === 'buy' && invUsd >= c.maxInventoryUsd) continue;
      if (side === 'sell' && invUsd <= -c.maxInventoryUsd) continue;
      const same = (side === 'buy') === invUsd > 0;
      const budget = Math.max(0, room - (same ? Math.abs(invUsd) : -Math.abs(invUsd)));
      const per = Math.min(levelUsd, budget / c.levels);
      // first grid price at least `half` from the center, then one grid step per level
      const first = side === 'buy' ? Math.floor((center - half) / g) : Math.ceil((center + half) / g);
      for (let i = 0; i < c.levels; i++) {
        const k = side === 'buy' ? first - i : first + i;
        if (k <= 0) break;
        const price = BigInt(k) * this.grid;
        const size = sizeForUsd(s, per, price);
        if (size > 0n) out.push({ side, price, size: this.roundSize(size) });
      }
    }
    return out;
  }

  /** Sizes rounded to 2 significant steps-multiples so small price moves do not resize (and requote) every level. */
  private roundSize(size: bigint): bigint {
    const step = this.spec.stepSize;
    let units = size / step;
    let scale = 1n;
    while (units >= 100n) {
      units /= 10n;
      scale *= 10n;
    }
    const r = units * scale * step;
    return r >= this.spec.minOrderSize ? r : this.spec.minOrderSize;
  }

  protected override failed(): void {
    // the ladder did not change; resynchronise from the chain's view next block (stale is set)
    if (this.depositedUsd <= 0) this.funded = false;
  }
}
