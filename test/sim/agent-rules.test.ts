import type { Any } from 'cosmjs-types/google/protobuf/any';
import { describe, expect, it } from 'vitest';
import { MarketMaker } from '../../sim/agents/market-maker.js';
import { Trader, Whale } from '../../sim/agents/trader.js';
import type { BlockCtx, MarginStyle } from '../../sim/agents/base.js';
import { buildConfig, type SimConfig } from '../../sim/config.js';
import { marketSpecs, type MarketSpec } from '../../sim/market.js';
import { Rng } from '../../sim/rng.js';
import { SimKey } from '../../sim/tx.js';
import { MarketView, Scheduler } from '../../sim/world.js';
import { perpchain } from '../../proto/gen/perpchain.js';

/**
 * The agents' documented trading rules (sim/README.md, "Agents"), driven directly without a chain:
 * the test plays the chain's part (oracle / reference prices, fills) and reads the messages an agent
 * would sign. Market makers widen in a fast move, pull every quote for `pullBlocks` in a violent one,
 * skew against inventory and stop quoting the side that would grow it past `maxInventoryUsd`.
 * Traders' leverage is capped by the market's IMF; prompt / late / never traders top up after
 * their own delays once their NC/MMR estimate falls under warnRatio, never out of the fee reserve.
 *
 * Devnet BTC-USD: price units of 10^-5 USD, tick $1, 1 BTC = 10^10 quantums, IMF 5%, MMF 3%.
 */
const USD = 100_000n; // one dollar in BTC-USD price units
const BTC = 10_000_000_000n;
const MID = 50_000n * USD;

function setup(over: Record<string, unknown> = {}): { cfg: SimConfig; spec: MarketSpec; view: MarketView; sched: Scheduler } {
  const cfg = buildConfig({ name: 'agents', markets: [{ id: 0, dataset: 'btc-2021-05-19', mode: 'step', weight: 1 }], ...over });
  const spec = marketSpecs(cfg)[0]!;
  return { cfg, spec, view: new MarketView(spec, MID), sched: new Scheduler() };
}

const ctxAt = (view: MarketView, sched: Scheduler, height: number, sblock = height): BlockCtx => ({
  height: BigInt(height),
  sblock,
  markets: new Map([[0, view]]),
  sched,
  query: () => {
    throw new Error('no chain in this test');
  },
});

const orders = (msgs: Any[]) =>
  msgs
    .filter((m) => m.typeUrl === '/perpchain.clob.v1.MsgPlaceOrder')
    .map((m) => {
      const o = perpchain.clob.v1.MsgPlaceOrder.decode(m.value);
      return { side: o.side === perpchain.clob.v1.Side.SIDE_BUY ? 'buy' : 'sell', price: BigInt(o.price.toString()), quantity: BigInt(o.quantity.toString()) };
    });
const deposits = (msgs: Any[]) => msgs.filter((m) => m.typeUrl === '/perpchain.subaccounts.v1.MsgDeposit').map((m) => BigInt(perpchain.subaccounts.v1.MsgDeposit.decode(m.value).amount));

/** Best bid and ask of a ladder. */
const touch = (msgs: Any[]) => {
  const o = orders(msgs);
  const bids = o.filter((x) => x.side === 'buy').map((x) => x.price);
  const asks = o.filter((x) => x.side === 'sell').map((x) => x.price);
  return { bid: bids.length ? bids.reduce((a, b) => (a > b ? a : b)) : undefined, ask: asks.length ? asks.reduce((a, b) => (a < b ? a : b)) : undefined, bids: bids.length, asks: asks.length };
};

describe('market maker', () => {
  // defaults: halfSpreadPpm 200 ($10 at $50k), levelStepPpm 300 (a $15 grid), widen ×3 above 5,000 ppm, pull above 35,000 ppm
  const maker = (over: Record<string, unknown> = {}) => {
    const { cfg, view, sched } = setup({ agents: { marketMakers: { levels: 2, ...over } } });
    const mm = new MarketMaker(0, new SimKey(1, 'mm'), view, new Rng(1), 20_000_000n * 1_000_000n, cfg.agents.marketMakers);
    return { mm, view, sched, cfg };
  };

  it('quotes at least halfSpreadPpm from the mid in calm markets, and widenFactor times that after a fast move', () => {
    const calm = maker();
    calm.view.setReference(MID);
    calm.view.setReference(MID); // no move
    const c = touch(calm.mm.act(ctxAt(calm.view, calm.sched, 1)));
    expect(c.bid! <= MID - 10n * USD && c.bid! > MID - 25n * USD).toBe(true); // within one $15 grid step of the $10 half spread
    expect(c.ask! >= MID + 10n * USD && c.ask! < MID + 25n * USD).toBe(true);

    const fast = maker();
    fast.view.setReference((MID * 99n) / 100n);
    fast.view.setReference(MID); // +1.01% over the lookback: above widenMovePpm, below pullMovePpm
    const f = touch(fast.mm.act(ctxAt(fast.view, fast.sched, 1)));
    expect(f.bid! <= MID - 30n * USD && f.bid! > MID - 45n * USD).toBe(true);
    expect(f.ask! >= MID + 30n * USD && f.ask! < MID + 45n * USD).toBe(true);
  });

  it('pulls every quote for pullBlocks after a violent move, then quotes again', () => {
    const { mm, view, sched } = maker({ lookbackBlocks: 1, pullBlocks: 3 });
    view.setReference(MID);
    expect(touch(mm.act(ctxAt(view, sched, 1, 0))).bids).toBe(2); // funded and quoting
    view.setReference((MID * 105n) / 100n); // +5% in one block (> 35,000 ppm)
    expect(orders(mm.act(ctxAt(view, sched, 2, 1)))).toEqual([]);
    for (const b of [2, 3]) {
      view.setReference((MID * 105n) / 100n); // calm again, but still inside the pull
      expect(orders(mm.act(ctxAt(view, sched, b + 1, b))), `scenario block ${b}`).toEqual([]);
    }
    view.setReference((MID * 105n) / 100n);
    const back = touch(mm.act(ctxAt(view, sched, 5, 4))); // pulled at block 1 for 3 blocks: back at block 4
    expect([back.bids, back.asks]).toEqual([2, 2]);
  });

  it('skews quotes against its inventory and stops bidding beyond maxInventoryUsd', () => {
    const quotesWith = (position: bigint) => {
      const { mm, view, sched } = maker();
      view.setReference(MID);
      mm.position = position;
      mm.entry = Number(MID); // no unrealised PnL
      return touch(mm.act(ctxAt(view, sched, 1)));
    };
    const flat = quotesWith(0n);
    const long = quotesWith(50n * BTC); // $2.5M long: half the $5M limit, the centre moves down by 0.05%
    expect(long.bid! < flat.bid! && long.ask! < flat.ask!).toBe(true); // cheaper asks to sell inventory, lower bids to buy less
    const full = quotesWith(101n * BTC); // $5.05M long: beyond the limit
    expect([full.bids, full.asks]).toEqual([0, 2]);
    const fullShort = quotesWith(-101n * BTC);
    expect([fullShort.bids, fullShort.asks]).toEqual([2, 0]);
  });
});

describe('leveraged trader', () => {
  const C0 = 10_000; // USD of collateral
  const trader = (style: MarginStyle, bankUsd = 100_000, over: Record<string, unknown> = {}) => {
    const { cfg, view, sched } = setup({
      agents: {
        leveraged: { collateralUsd: [[C0, C0, 1]], leverage: [[10, 10, 1]], longBias: 1, passiveShare: 0, holdBlocks: [1_000, 1_000], ...over },
        margin: { warnRatio: 1.6, promptDelayBlocks: [2, 2], lateDelayBlocks: [30, 30], topUpFraction: 0.5 },
      },
    });
    const t = new Trader(0, new SimKey(1, 't'), view, new Rng(3), BigInt(bankUsd) * 1_000_000n, {
      kind: 'leveraged',
      cfg: cfg.agents.leveraged,
      margin: cfg.agents.margin,
      takerFeePpm: cfg.params.takerFeePpm,
      style,
      collateralUsd: C0,
      firstEntry: 1,
    });
    return { t, view, sched };
  };

  it('leverage is capped below 1 / IMF (with room for the entry slippage and taker fee)', () => {
    const { t } = trader('prompt', 100_000, { leverage: [[50, 50, 1]] });
    // 0.95 / (5% IMF + 0.2% entry slippage + 0.05% taker fee)
    expect(t.leverage).toBeCloseTo(0.95 / 0.0525, 9);
    expect(t.leverage).toBeLessThan(20);
  });

  /** Enter 2 BTC long at $50,000 with $10,000 ($40,000 left in the bank), move the oracle to `price`, return the block of the top-up deposit. */
  const topUpBlock = (style: MarginStyle, priceUsd: number, bankUsd = 100_000): number | undefined => {
    const { t, view, sched } = trader(style, bankUsd);
    const entry = t.act(ctxAt(view, sched, 1));
    expect(deposits(entry)).toEqual([BigInt(C0) * 1_000_000n]);
    expect(orders(entry)).toMatchObject([{ side: 'buy', quantity: 2n * BTC }]); // 10× leverage on $10,000
    t.onFill(2n * BTC, MID, undefined, undefined);
    t.afterBlock(ctxAt(view, sched, 1));
    view.push(BigInt(priceUsd) * USD);
    for (let h = 2; h < 60; h++) {
      if (deposits(t.act(ctxAt(view, sched, h))).length) return h;
    }
    return undefined;
  };
  // NC/MMR of 2 BTC entered at $50,000 with $10,000: (10,000 + 2(P − 50,000)) / (0.06 P): 1.6 at P ≈ $47,269
  const above = 47_420; // ratio 1.70: no warning yet
  const below = 47_120; // ratio 1.50

  it('prompt, late and never traders: a top-up after promptDelayBlocks, after lateDelayBlocks, or not at all', () => {
    expect(topUpBlock('prompt', below)).toBe(2 + 2);
    expect(topUpBlock('late', below)).toBe(2 + 30);
    expect(topUpBlock('never', below)).toBeUndefined();
  });

  it('no top-up while the NC/MMR estimate stays above warnRatio', () => {
    expect(topUpBlock('prompt', above)).toBeUndefined();
  });

  it('a top-up never spends the fee reserve kept in the bank', () => {
    // $10,000 deposited at entry leaves $5,001: a $5,000 top-up would leave less than the $2 fee reserve
    expect(topUpBlock('prompt', below, 15_001)).toBeUndefined();
    expect(topUpBlock('prompt', below, 15_002)).toBe(4);
  });
});

describe('whale', () => {
  it('defends its position with a tenth of its collateral once its NC/MMR estimate is under warnRatio', () => {
    const run = (priceUsd: bigint) => {
      const { cfg, view, sched } = setup();
      const w = new Whale(0, new SimKey(1, 'w'), view, new Rng(1), 10_000_000n * 1_000_000n, { market: 0, side: 'buy', collateralUsd: 1_000_000, leverage: 10, startBlock: 100, chunks: 1, everyBlocks: 1, slippagePpm: 1000, closeBlock: 0 }, cfg.agents.margin.warnRatio);
      expect(deposits(w.act(ctxAt(view, sched, 1, 0)))).toEqual([1_000_000n * 1_000_000n]);
      w.position = 200n * BTC; // $10M long at $50,000
      w.entry = Number(MID);
      view.push(priceUsd * USD);
      return deposits(w.act(ctxAt(view, sched, 2, 1)));
    };
    // at $49,500: equity $900k, MMR 3% of $9.9M = $297k: ratio 3.0, above the default warnRatio 1.6
    expect(run(49_500n)).toEqual([]);
    // at $46,500: equity $300k, MMR $279k: ratio 1.08
    expect(run(46_500n)).toEqual([100_000n * 1_000_000n]);
  });
});
