/**
 * A market maker quoting a ladder around the oracle price: `levels` post-only
 * orders per side, the first halfSpreadPpm from the mid, each further level
 * levelStepPpm out. Quotes are skewed against inventory and stop on the side
 * that would grow it past maxInventoryUsd; spreads widen in fast moves and
 * the maker pulls every quote when the move is violent. Each refresh is one
 * tx: cancel every live quote, place the new ladder.
 */
import type { Any } from 'cosmjs-types/google/protobuf/any';
import type { MarketMakerConfig } from '../config.js';
import { sizeForUsd, toTick } from '../market.js';
import { cancelAny, placeAny } from '../tx.js';
import { Agent, type BlockCtx, usdToUusdc } from './base.js';
import type { Rng } from '../rng.js';
import type { SimKey } from '../tx.js';
import type { MarketView } from '../world.js';

export class MarketMaker extends Agent {
  readonly kind = 'market_maker' as const;
  private funded = false;
  private lastMid = 0;
  private lastQuoteBlock = -1_000_000;
  private pulledUntil = -1_000_000;
  private quotedPosition = 0n;
  private readonly sizeFactor: number;
  /** Quotes placed / cancelled over the run. */
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
    const block = ctx.sblock;
    const move = m.maxMovePpm(c.lookbackBlocks);
    if (move > c.pullMovePpm) this.pulledUntil = block + c.pullBlocks;
    const pulled = block < this.pulledUntil;
    const mid = m.oracleNum;
    const drift = this.lastMid > 0 ? (Math.abs(mid - this.lastMid) / this.lastMid) * 1_000_000 : Infinity;
    const refresh =
      msgs.length > 0 ||
      (pulled ? this.openOrders.size > 0 : drift > c.refreshPpm || block - this.lastQuoteBlock >= c.refreshBlocks || this.position !== this.quotedPosition || this.openOrders.size < c.levels);
    if (!refresh) return msgs;
    for (const [id, o] of this.openOrders) if (o.goodTilBlock === 0n || o.goodTilBlock >= ctx.height) msgs.push(cancelAny(this.address, id));
    this.lastQuoteBlock = block;
    this.lastMid = mid;
    this.quotedPosition = this.position;
    if (pulled) return msgs;

    const s = this.spec;
    const px = mid * s.usdPerPriceUnit;
    const invUsd = Number(this.position) * s.basePerQuantum * px;
    const ratio = Math.max(-1, Math.min(1, invUsd / c.maxInventoryUsd));
    const skew = -ratio * c.skewPpm;
    const widen = move > c.widenMovePpm ? c.widenFactor : 1;
    // risk limit: what one side may add, from the estimated equity at 80% of the initial requirement
    const imf = Number(s.imfPpm) / 1_000_000;
    const room = Math.max(0, (this.equityUsd() * 0.8) / imf);
    const levelUsd = c.levelSizeUsd * this.sizeFactor;
    const sideUsd = (side: 'buy' | 'sell') => {
      const same = (side === 'buy') === invUsd > 0;
      return Math.max(0, room - (same ? Math.abs(invUsd) : -Math.abs(invUsd)));
    };
    const gtb = ctx.height + BigInt(c.ttlBlocks);
    for (const side of ['buy', 'sell'] as const) {
      if (side === 'buy' && invUsd >= c.maxInventoryUsd) continue;
      if (side === 'sell' && invUsd <= -c.maxInventoryUsd) continue;
      const budget = sideUsd(side);
      const per = Math.min(levelUsd, budget / c.levels);
      for (let i = 0; i < c.levels; i++) {
        const off = (c.halfSpreadPpm * widen + i * c.levelStepPpm) / 1_000_000;
        const price = side === 'buy' ? toTick(s, mid * (1 + skew / 1_000_000 - off), 'buy') : toTick(s, mid * (1 + skew / 1_000_000 + off), 'sell');
        const size = sizeForUsd(s, per, price);
        if (size <= 0n) continue;
        msgs.push(placeAny(this.placing({ owner: this.address, marketId: s.id, clientId: this.clientId(), side, price, quantity: size, tif: 'post_only', goodTilBlock: gtb })));
        this.quotes++;
      }
    }
    return msgs;
  }

  protected override failed(): void {
    // the ladder did not change; requote from the chain's view next block
    this.lastQuoteBlock = -1_000_000;
    if (this.depositedUsd <= 0) this.funded = false;
  }
}
