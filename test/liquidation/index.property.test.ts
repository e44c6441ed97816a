import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState, DEVNET_MARKETS } from '../../chain/devnet/markets.js';
import { moduleAddress } from '../../chain/codec/address.js';
import { decodeSubaccount, SUBACCOUNT_TABLE, type Subaccount } from '../../modules/subaccounts/index.js';
import { quoteExponent } from '../../modules/subaccounts/margin.js';
import { ChainError } from '../../chain/errors/index.js';

/**
 * Random traders, price paths and funding ticks. The liquidation index must
 * flag exactly the accounts a full scan flags, at every step, in the
 * protocol's order (computed independently from stored subaccounts); with the
 * engine running, uusdc is conserved every block and no account ends a
 * block liquidatable without having been processed or carried by the cap.
 */
const keys = testKeys(10, 'liqprop');
const N = 16;
const sid = (i: number) => ({ owner: keys[2 + (i % 8)]!.address, number: i >> 3 });

function harness(fund = 5_000_000_000n) {
  const ms = marketsAppState(keys[0]!.address, [keys[1]!.address]) as { prices: { params: Record<string, string> }; perpetuals: { markets: Array<Record<string, unknown>> } };
  ms.prices.params.max_move_ppm = '1000000';
  ms.perpetuals.markets = DEVNET_MARKETS.map((m, i) => ({ ...m, interest_rate_ppm: i === 0 ? '300' : '-300' }));
  const h = new ModuleHarness({
    bank: { balances: [...keys.map((k) => ({ address: k.address, amount: '100000000000000' })), { address: moduleAddress('insurance_fund'), amount: fund.toString() }] },
    ...ms,
    clob: { params: { taker_fee_ppm: 0, maker_fee_ppm: 0 } },
    liquidation: { params: { max_liquidations_per_block: 3, position_fraction_ppm: 500000, min_liquidation_notional: '1000000000' } },
  });
  h.modules.forEach((m) => m.load?.(h.state));
  return h;
}

const subs = (h: ModuleHarness): Subaccount[] => h.state.scanTable(SUBACCOUNT_TABLE).map(([, v]) => decodeSubaccount(v));

const step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('open' as const), a: fc.nat(N - 1), b: fc.nat(N - 1), market: fc.nat(1), lots: fc.integer({ min: 1, max: 60 }), bp: fc.integer({ min: -100, max: 100 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), market: fc.nat(1), bp: fc.integer({ min: -1500, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), a: fc.nat(N - 1), pct: fc.integer({ min: 1, max: 90 }) }) },
);

/** Two fully leveraged longs (most free collateral withdrawn), then both markets fall 15 % twice. */
const CRASH_PATH = [
  { kind: 'open' as const, a: 0, b: 1, market: 0, lots: 60, bp: 0 },
  { kind: 'open' as const, a: 2, b: 3, market: 1, lots: 60, bp: 0 },
  { kind: 'withdraw' as const, a: 0, pct: 90 },
  { kind: 'withdraw' as const, a: 2, pct: 90 },
  { kind: 'tick' as const },
  { kind: 'move' as const, market: 0, bp: -1500 },
  { kind: 'move' as const, market: 1, bp: -1500 },
  { kind: 'tick' as const },
  { kind: 'move' as const, market: 0, bp: -1500 },
  { kind: 'move' as const, market: 1, bp: -1500 },
];

function apply(h: ModuleHarness, s: any): void {
  const k = h.keepers;
  if (s.kind === 'open') {
    if (s.a === s.b) return;
    const oracle = k.prices.price(h.state, s.market);
    const tick = s.market === 0 ? 100_000n : 10_000n;
    const price = ((oracle * BigInt(10_000 + s.bp)) / 10_000n / tick) * tick;
    const size = BigInt(s.lots) * (s.market === 0 ? 1_000_000_000n : 100_000_000_000n) / 100n; // up to 0.6 BTC / 60 ETH
    h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: s.market, size, price, buyer: sid(s.a), seller: sid(s.b), buyerFee: 0n, sellerFee: 0n, feeCollector: k.feeCollector }));
  } else if (s.kind === 'move') {
    h.run((ctx) => k.prices.applyPrice(ctx, s.market, (k.prices.price(h.state, s.market) * BigInt(10_000 + s.bp)) / 10_000n));
  } else if (s.kind === 'tick') {
    h.timeSec += 3600n;
    h.run((ctx) => {
      for (const m of h.modules) if (m.name === 'prices' || m.name === 'perpetuals') m.endBlock?.(ctx);
    });
  } else {
    // withdraw part of the free collateral (never below IMR: the keeper refuses)
    const sub = k.subaccounts.get(h.state, sid(s.a));
    const r = k.subaccounts.risk(h.state, sub);
    const free = r.nc - r.imr;
    if (free <= 0n) return;
    const amt = (free * BigInt(s.pct)) / 100n;
    // may be refused while insolvent counterparties hold the pool's cash (a typed error, nothing changes)
    if (amt > 0n) {
      try {
        h.run((ctx) => k.subaccounts.withdraw(ctx, sid(s.a), amt, sid(s.a).owner));
      } catch (e) {
        if ((e as { codespace?: string }).codespace !== 'subaccounts') throw e;
      }
    }
  }
}

function fund(h: ModuleHarness): void {
  for (let i = 0; i < N; i++) h.run((ctx) => h.keepers.subaccounts.deposit(ctx, sid(i), 20_000_000_000n)); // $20,000 each
}

describe('liquidation index', () => {
  it('flags exactly what a full scan flags, on random states and price paths (funding included)', () => {
    let flaggedSeen = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 60 }), (steps) => {
        const h = harness();
        fund(h);
        const liq = h.keepers.liquidation;
        for (const s of steps) {
          apply(h, s);
          const order = liq.detect(h.state).map((f) => f.key);
          const detected = [...order].sort();
          expect(detected).toEqual(liq.fullScan(h.state, subs(h)));
          expect(order).toEqual(referenceOrder(h, detected));
          flaggedSeen += detected.length;
        }
      }),
      { numRuns: 81, examples: [[CRASH_PATH]] }, // the fixed crash first: the count below never depends on the draw
    );
    expect(flaggedSeen).toBeGreaterThan(0); // the paths do reach liquidatable states
  });

  it('survives a restart: an index rebuilt from state flags the same set', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), (steps) => {
        const h = harness();
        fund(h);
        for (const s of steps) apply(h, s);
        const found = h.keepers.liquidation.detect(h.state);
        const keysThen = found.map((f) => f.key);
        const live = [...keysThen].sort();
        h.modules.forEach((m) => m.load?.(h.state));
        expect(h.keepers.liquidation.detect(h.state).map((f) => f.key).sort()).toEqual(live);
        // results read before the reload still name the same accounts (their keys are read on demand)
        expect(found.map((f) => f.key)).toEqual(keysThen);
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * The liquidation order straight from stored subaccounts, exactly: ascending
 * ⌊NC/MMR · 10^6⌋ of the unrounded NC and MMR (10^-24 uusdc), ties by key.
 */
function referenceOrder(h: ModuleHarness, flagged: string[]): string[] {
  const k = h.keepers;
  const E24 = 10n ** 24n;
  const rows = subs(h)
    .filter((s) => flagged.includes(`${s.owner}/${s.number}`))
    .map((s) => {
      let nc = s.collateral * E24;
      let mmr = 0n;
      for (const x of s.positions) {
        const m = k.perpetuals.market(h.state, x.marketId);
        const v = x.size * k.prices.price(h.state, x.marketId) * 10n ** BigInt(quoteExponent(m) + 24);
        nc += v + 1_000_000n * (-x.size * (k.perpetuals.fundingIndex(h.state, x.marketId) - x.fundingIndex) + x.fundingCarry);
        mmr += ((v < 0n ? -v : v) * m.maintenanceMarginPpm) / 1_000_000n; // exact: v carries a factor 10^24
      }
      const q = nc * 1_000_000n;
      return { key: `${s.owner}/${s.number}`, ppm: q / mmr - (q % mmr !== 0n && q < 0n ? 1n : 0n) };
    });
  rows.sort((a, b) => (a.ppm !== b.ppm ? (a.ppm < b.ppm ? -1 : 1) : a.key < b.key ? -1 : 1));
  return rows.map((r) => r.key);
}

/**
 * ADL ranking straight from stored subaccounts, exactly, in 10^-24 uusdc: PnL = size·price·10^e − cost basis,
 * NC = collateral + Σ value + Σ unsettled funding (unrounded), score = PnL⁺ · notional / NC.
 */
function referenceRanking(h: ModuleHarness, marketId: number, sign: bigint): string[] {
  const k = h.keepers;
  const E24 = 10n ** 24n;
  const rows: Array<{ key: string; pnl: bigint; num: bigint; nc: bigint }> = [];
  for (const s of subs(h)) {
    const p = s.positions.find((x) => x.marketId === marketId);
    if (!p || (p.size > 0n ? 1n : -1n) !== sign) continue;
    let nc = s.collateral * E24;
    let notional = 0n;
    let value = 0n;
    for (const x of s.positions) {
      const m = k.perpetuals.market(h.state, x.marketId);
      const v = x.size * k.prices.price(h.state, x.marketId) * 10n ** BigInt(quoteExponent(m) + 24);
      const funding = 1_000_000n * (-x.size * (k.perpetuals.fundingIndex(h.state, x.marketId) - x.fundingIndex) + x.fundingCarry);
      nc += v + funding;
      notional += v < 0n ? -v : v;
      if (x.marketId === marketId) value = v;
    }
    if (nc <= 0n) continue;
    const pnl = value - p.costBasis * E24;
    rows.push({ key: `${s.owner}/${s.number}`, pnl, num: (pnl > 0n ? pnl : 0n) * notional, nc });
  }
  rows.sort((a, b) => {
    const l = a.num * b.nc;
    const r = b.num * a.nc;
    if (l !== r) return l > r ? -1 : 1;
    if (a.pnl !== b.pnl) return a.pnl > b.pnl ? -1 : 1;
    return a.key < b.key ? -1 : 1;
  });
  return rows.map((r) => r.key);
}

describe('ADL ranking', () => {
  it('ranks from the index exactly as an exact ranking computed from stored subaccounts, on random states and price paths', () => {
    let ranked = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), (steps) => {
        const h = harness();
        fund(h);
        for (const s of steps) apply(h, s);
        for (const market of [0, 1]) {
          for (const sign of [1n, -1n]) {
            const got = h.keepers.liquidation.rankCounterparties(h.state, market, sign).map((c) => c.key);
            expect(got).toEqual(referenceRanking(h, market, sign));
            ranked += got.length;
          }
        }
      }),
      { numRuns: 41, examples: [[CRASH_PATH]] }, // the fixed crash first: the count below never depends on the draw
    );
    expect(ranked).toBeGreaterThan(0);
  });
});

describe('liquidation engine over random paths', () => {
  it('conserves uusdc every block and leaves no account liquidatable unless processed or carried', () => {
    let liquidations = 0;
    let quotes = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 50 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }), (steps, bidLots) => {
        const h = harness(500_000_000n);
        fund(h);
        const k = h.keepers;
        // the maker's own subaccount (unfunded, every quote failed its margin check and the book never took part)
        h.run((ctx) => k.subaccounts.deposit(ctx, { owner: keys[1]!.address, number: 5 }, 1_000_000_000_000n));
        let cid = 1;
        for (const s of steps) {
          apply(h, s);
          // a market maker refreshes some liquidity on both sides around the oracle
          h.run((ctx) => {
            for (const market of [0, 1]) {
              const oracle = k.prices.price(ctx.store, market);
              const tick = market === 0 ? 100_000n : 10_000n;
              const lot = market === 0 ? 10_000_000n : 1_000_000_000n;
              for (const [i, lots] of bidLots.entries()) {
                const off = BigInt(20 * (i + 1));
                try {
                  k.clob.placeOrder(ctx, { owner: keys[1]!.address, number: 5, marketId: market, clientId: cid++, side: 'buy', type: 'limit', tif: 'gtc', price: ((oracle * (10_000n - off)) / 10_000n / tick) * tick, quantity: BigInt(lots) * lot, reduceOnly: false, goodTilBlock: h.height + 2n, goodTilTime: 0n, stp: 'cancel_resting', triggerPrice: 0n });
                  k.clob.placeOrder(ctx, { owner: keys[1]!.address, number: 5, marketId: market, clientId: cid++, side: 'sell', type: 'limit', tif: 'gtc', price: ((oracle * (10_000n + off)) / 10_000n / tick + 1n) * tick, quantity: BigInt(lots) * lot, reduceOnly: false, goodTilBlock: h.height + 2n, goodTilTime: 0n, stp: 'cancel_resting', triggerPrice: 0n });
                  quotes++;
                } catch (e) {
                  if (!(e instanceof ChainError)) throw e; // margin, a stale price or crossing: skip
                }
              }
            }
          });
          h.run((ctx) => {
            for (const m of h.modules) m.beginBlock?.({ ...ctx, mode: 'begin_block' });
          });
          h.timeSec += 1n;
          h.endBlock();
          expect(h.invariants()).toEqual([]);
          liquidations += h.events.events.filter((e) => e.type.startsWith('liquidation.')).length;
          h.events.events.length = 0;
          const left = k.liquidation.fullScan(h.state, subs(h));
          const handled = new Set([...k.liquidation.last.processed, ...k.liquidation.last.carried]);
          for (const key of left) expect(handled.has(key), `${key} liquidatable but neither processed nor carried`).toBe(true);
          // the query's list is in full liquidation order, and the block processed its head
          const listed = k.liquidation.last.flagged;
          expect(k.liquidation.last.flaggedCount).toBe(listed.length);
          expect(k.liquidation.last.carriedCount).toBe(k.liquidation.last.carried.length);
          for (let i = 1; i < listed.length; i++) {
            const [a, b] = [listed[i - 1]!, listed[i]!];
            expect(a.ratioPpm < b.ratioPpm || (a.ratioPpm === b.ratioPpm && a.key < b.key), `${a.key} listed before ${b.key}`).toBe(true);
          }
          expect(listed.slice(0, k.liquidation.last.processed.length).map((f) => f.key)).toEqual(k.liquidation.last.processed);
        }
      }),
      // the random paths usually liquidate someone, but not always: one fixed crash among them (run first,
      // counted in numRuns) makes the count below a check of the engine, not of the draw
      { numRuns: 26, examples: [[CRASH_PATH, [5, 5]]] },
    );
    expect(liquidations).toBeGreaterThan(0);
    expect(quotes).toBeGreaterThan(100); // the book took part: liquidations could fill against it
  });
});
