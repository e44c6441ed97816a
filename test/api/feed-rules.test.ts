/**
 * The Feed's per-block rules (chain/api/feed.ts), block by block on a
 * stand-in App (fake-app.ts): what `book` with a depth answers, what a book
 * delta lists, how candles, trades and risk figures are built from events,
 * which blocks reach an account channel and with what, how long tx results
 * and client-id records are kept, and how markets are named. Each rule is
 * one a subscriber relies on (chain/api/README.md) and that the end-to-end
 * tests do not reach precisely (exact block times, thousands of blocks,
 * self-trades, liquidations).
 */
import { describe, expect, it } from 'vitest';
import { Feed, diffSide } from '../../chain/api/feed.js';
import { bookChecksum, type WireLevel } from '../../client/checksum.js';
import { ev, fill, FakeApp, txResult } from './fake-app.js';

function feedOn(app = new FakeApp()): { app: FakeApp; feed: Feed; last: () => ReturnType<Feed['onCommit']> } {
  const feed = new Feed(app);
  feed.init();
  let last: ReturnType<Feed['onCommit']> | undefined;
  app.onCommit((b) => (last = feed.onCommit(b)));
  return { app, feed, last: () => last! };
}

const subaccount = (owner: string, number: number, collateral: string, positions: Array<{ market_id: number; size: string }> = []) => ({
  owner,
  number,
  collateral,
  net_collateral: collateral,
  initial_margin_requirement: '0',
  maintenance_margin_requirement: '0',
  free_collateral: collateral,
  leverage_ppm: '0',
  liquidatable: false,
  positions,
});

describe('book answers', () => {
  it('a depth cut applies to both sides, and its checksum is of the levels returned', () => {
    const { app, feed } = feedOn();
    // 30 bids but only 2 asks: depth 5 must still cut the bids
    app.books.set(0, { bids: Array.from({ length: 30 }, (_, i) => [1000 - i, 1, 1] as [number, number, number]), asks: [[2000, 1, 1], [2001, 1, 1]] });
    app.commit();
    const s = feed.bookSnapshot(0, 5);
    expect(s.bids.length).toBe(5);
    expect(s.asks.length).toBe(2);
    expect(s.checksum).toBe(bookChecksum(s.bids, s.asks));
    // the full book's checksum (top 25) is a different number: a client checking the cut against it would resync forever
    expect(s.checksum).not.toBe(feed.bookSnapshot(0).checksum);
  });

  it('a delta lists a level whose order count changed at the same size (the checksum covers counts)', () => {
    const prev: WireLevel[] = [['100', '5', 1], ['99', '1', 1]];
    const next: WireLevel[] = [['100', '5', 2], ['99', '1', 1]];
    expect(diffSide(prev, next, true)).toEqual([['100', '5', 2]]);
  });

  it('orders prices numerically, not as text: a new best bid of more digits is one added level', () => {
    // "100" < "99" as text; as numbers 100 is the better bid
    expect(diffSide([['99', '1', 1]], [['100', '2', 1], ['99', '1', 1]], true)).toEqual([['100', '2', 1]]);
    expect(diffSide([['100', '1', 1]], [['99', '2', 1], ['100', '1', 1]], false)).toEqual([['99', '2', 1]]);
  });
});

describe('trades and candles', () => {
  it('one block of three fills is one candle per interval: floor-aligned start, open/high/low/close, summed volume', () => {
    const { app, feed, last } = feedOn();
    // 30 s into a minute (and into the 5-minute and hour intervals): the candle starts at the interval's start, not the next
    const t = 1_800_000_030;
    app.commit({ txs: [txResult([fill({ price: 100, size: 1 }), fill({ price: 120, size: 2, taker_side: 'sell' }), fill({ price: 90, size: 3 })])], timeSec: t });
    const u = last();
    const c1m = u.candles.get('0|1m')!;
    expect(c1m).toEqual([{ t: Math.floor(t / 60) * 60, open: '100', high: '120', low: '90', close: '90', volume: '6', trades: 3 }]);
    expect(u.candles.get('0|1h')![0]!.t).toBe(Math.floor(t / 3600) * 3600);
    expect(feed.candleSeries(0, '1m')).toEqual(c1m);
    // the trade's side is the taker's
    expect(u.trades.get(0)!.map((x) => x.taker_side)).toEqual(['buy', 'sell', 'buy']);
  });

  it('keeps the last 300 candles of a series', () => {
    const { app, feed } = feedOn();
    const t0 = 1_800_000_000 - (1_800_000_000 % 60);
    for (let i = 0; i < 301; i++) app.commit({ txs: [txResult([fill({ price: 100 + i, size: 1 })])], timeSec: t0 + 60 * i });
    const s = feed.candleSeries(0, '1m');
    expect(s.length).toBe(300);
    expect(s[0]!.t).toBe(t0 + 60);
  });
});

describe('risk figures', () => {
  it('counts a liquidation with a counterparty as ADL, and block_liquidation_events per block', () => {
    const { app, last } = feedOn();
    app.commit({ events: [ev('liquidation.order', { owner: 'perp1a' }), ev('liquidation.match', { owner: 'perp1a', counterparty_owner: 'perp1b' })] });
    expect(last().risk).toMatchObject({ liquidations_total: 2, adl_total: 1, block_liquidation_events: 2, liquidation_events: { 'liquidation.order': 1, 'liquidation.match': 1 } });
    app.commit();
    // this block had none: the per-block figure is not a running total
    expect(last().risk).toMatchObject({ liquidations_total: 2, block_liquidation_events: 0 });
  });
});

describe('client order ids', () => {
  const placed = (owner: string, clientId: number, orderId: number) =>
    ev('clob.order_placed', { owner, number: '0', client_id: String(clientId), order_id: String(orderId), market_id: '1', side: 'buy' });

  it('a cancel names the order it closed: it does not mark a later order that reuses the client id', () => {
    const { app, feed } = feedOn();
    app.commit({ txs: [txResult([placed('perp1a', 7, 1)])] });
    app.commit({ txs: [txResult([placed('perp1a', 7, 5)])] });
    app.commit({ events: [ev('clob.order_cancelled', { owner: 'perp1a', number: '0', client_id: '7', order_id: '1', reason: 'expired' })] });
    expect(feed.clientOrder('perp1a', 0, 7)).toEqual({ order_id: '5', placed_height: 2, market_id: 1, side: 'buy' });
  });

  it('keeps records 10,000 blocks, and pruning an old block leaves a newer record of the same client id', () => {
    const { app, feed } = feedOn();
    app.commit({ txs: [txResult([placed('perp1a', 1, 1), placed('perp1a', 7, 2)])] }); // height 1
    app.commit({ txs: [txResult([placed('perp1a', 7, 3)])] }); // height 2: client id 7 reused
    while (app.height < 10_000n) app.commit();
    app.commit({ txs: [txResult([placed('perp1b', 1, 4)])] }); // height 10,001: height 1 is exactly 10,000 blocks back
    expect(feed.clientOrder('perp1a', 0, 1)?.order_id).toBe('1');
    app.commit({ txs: [txResult([placed('perp1b', 2, 5)])] }); // height 10,002: height 1 is pruned
    expect(feed.clientOrder('perp1a', 0, 1)).toBeUndefined();
    expect(feed.clientOrder('perp1a', 0, 7)).toEqual({ order_id: '3', placed_height: 2, market_id: 1, side: 'buy' });
  });
});

describe('recent tx results', () => {
  it('are kept for the last 2,000 blocks', () => {
    const { app, feed } = feedOn();
    app.commit({ txs: [txResult([])], hashes: ['AB'.repeat(32)] });
    while (app.height < 2_000n) app.commit();
    expect(feed.txResult('ab'.repeat(32))).toMatchObject({ status: 'included', height: 1 });
    app.commit();
    expect(feed.txResult('AB'.repeat(32))).toBeUndefined();
  });
});

describe('account updates', () => {
  const X = 'perp1xxxx';
  const Y = 'perp1yyyy';

  function watched(app: FakeApp, feed: Feed, a: string, subs: ReturnType<typeof subaccount>[]) {
    app.answers.set(`subaccounts/owner/${a}`, subs);
    for (const s of subs) app.answers.set(`subaccounts/subaccount/${a}/${s.number}`, s);
    for (const s of subs) app.answers.set(`clob/orders/${a}/${s.number}`, [{ id: `${s.number}01`, owner: a, subaccount_number: s.number }]);
    feed.watch(a);
    return feed.accountSnapshot(a);
  }

  it('the snapshot has the open orders of every subaccount', () => {
    const { app, feed } = feedOn();
    const snap = watched(app, feed, X, [subaccount(X, 0, '10'), subaccount(X, 1, '10')]);
    expect(snap.open_orders.map((o) => o.id)).toEqual(['001', '101']);
  });

  it('lists each event once, begin-block, txs, end-block, even when the address is both taker and maker', () => {
    const { app, feed, last } = feedOn();
    watched(app, feed, X, [subaccount(X, 0, '10')]);
    app.commit({
      events: [ev('subaccounts.funding', { owner: X, amount: '1' }), ev('perpetuals.funding', { mode: 'BeginBlock' }), ev('clob.order_expired', { owner: X, mode: 'BeginBlock' })],
      txs: [txResult([fill({ price: 100, size: 1, taker_owner: X, maker_owner: X })])],
      hashes: ['CD'.repeat(32)],
    });
    const u = last().accounts.get(X)!;
    expect(u.events.map((e) => [e.type, e.tx_hash])).toEqual([
      ['clob.order_expired', null],
      ['clob.fill', 'CD'.repeat(32)],
      ['subaccounts.funding', null],
    ]);
    expect(u.fills.length).toBe(1);
  });

  it('a price move updates the watched addresses that hold positions, without open_orders; a closed position stops that', () => {
    const { app, feed, last } = feedOn();
    watched(app, feed, X, [subaccount(X, 0, '10', [{ market_id: 0, size: '5' }])]);
    watched(app, feed, Y, [subaccount(Y, 0, '10')]);
    app.commit({ events: [ev('prices.update', { market_id: '0', price: '1' })] });
    expect([...last().accounts.keys()]).toEqual([X]);
    expect(last().accounts.get(X)!.subaccounts?.[0]?.positions.length).toBe(1);
    // open_orders come only with blocks that involve the address
    expect(last().accounts.get(X)!.open_orders).toBeUndefined();
    // X's position is closed by a fill that names X: from then on price moves leave X alone
    app.answers.set(`subaccounts/subaccount/${X}/0`, subaccount(X, 0, '10'));
    app.commit({ txs: [txResult([fill({ price: 100, size: 5, taker_owner: X })])] });
    expect(last().accounts.get(X)!.open_orders).toBeDefined();
    app.commit({ events: [ev('prices.update', { market_id: '0', price: '2' })] });
    expect(last().accounts.size).toBe(0);
  });

  it('a deposit that opens a new subaccount shows it; an empty subaccount is not listed', () => {
    const { app, feed, last } = feedOn();
    // X has nothing yet: subaccount 0 answers as an empty one
    watched(app, feed, X, []);
    app.answers.set(`subaccounts/subaccount/${X}/0`, subaccount(X, 0, '0'));
    app.commit({ txs: [txResult([ev('clob.order_cancelled', { owner: X, number: '0', client_id: '1', order_id: '1' })])] });
    expect(last().accounts.get(X)!.subaccounts).toEqual([]);
    // a deposit into subaccount 3
    const s3 = subaccount(X, 3, '500');
    app.answers.set(`subaccounts/owner/${X}`, [s3]);
    app.answers.set(`subaccounts/subaccount/${X}/3`, s3);
    app.commit({ txs: [txResult([ev('subaccounts.deposit', { owner: X, number: '3', amount: '500' })])] });
    expect(last().accounts.get(X)!.subaccounts).toEqual([s3]);
  });
});

describe('market names', () => {
  it('tickers are case-insensitive; an unknown numeric id is no market', () => {
    const { feed } = feedOn();
    expect(feed.marketId('btc-usd')).toBe(0);
    expect(feed.marketId('1')).toBe(1);
    expect(feed.marketId('7')).toBeUndefined();
  });
});
