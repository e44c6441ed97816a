/**
 * `orderbook:<market>:<depth>` over real sockets: a book deeper than the cut, with order flow moving levels
 * into and out of the top `depth`, stays equal to the node's top `depth` levels a side at every height, with
 * no resync (the checksum of the top 25 is checked on every delta). Also: the snapshot is cut, an unknown
 * depth is refused with the depths that exist, and the whole-book channel is unchanged beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerpchainClient, Trader, type WireLevel, type ChannelMessage, type BookSnapshotData } from '../../client/index.js';
import { startTestNode, waitFor, sleep, type TestNode } from './node.js';

/** The node's top `depth` levels a side of market 0 at each committed height, straight from the clob keeper. */
function recordNodeBooks(t: TestNode, depth: number): Map<number, { bids: WireLevel[]; asks: WireLevel[] }> {
  const books = new Map<number, { bids: WireLevel[]; asks: WireLevel[] }>();
  const f = (l: [bigint, bigint, number]): WireLevel => [l[0].toString(), l[1].toString(), l[2]];
  const snap = () => {
    const l = t.node.app.keepers.clob.levels(0, depth);
    books.set(Number(t.node.app.height), { bids: l.bids.map(f), asks: l.asks.map(f) });
  };
  snap();
  t.node.app.onCommit(snap);
  return books;
}

describe('order book channels cut to a depth', () => {
  let t: TestNode;
  let client: PerpchainClient;
  let makers: Trader[];

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 15, accounts: 3 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    client = await PerpchainClient.connect({ url: t.url });
    makers = await Promise.all(t.keys.slice(1, 3).map((k) => Trader.create({ client, signer: k })));
    await Promise.all(makers.map((m) => m.deposit('500000')));
    // 40 bid levels ($64,900..$64,939) and 40 ask levels ($65,100..$65,139): deeper than a 25-level cut
    const ladder = (m: Trader, side: 'buy' | 'sell', base: number) =>
      m.batch(Array.from({ length: 40 }, (_, i) => ({ op: 'place' as const, market: 'BTC-USD', side, price: String(base + i), size: '0.001', clientId: m.nextClientId() })));
    await ladder(makers[0]!, 'buy', 64_900);
    await ladder(makers[1]!, 'sell', 65_100);
  });

  afterAll(async () => {
    client?.close();
    await t?.stop();
  });

  it('keeps the top 25 levels a side equal to the node\'s at every height while levels enter and leave the cut', async () => {
    const nodeBooks = recordNodeBooks(t, 25);
    const watcher = await PerpchainClient.connect({ url: t.url });
    const mb = await watcher.orderBook('BTC-USD', { depth: 25 });
    expect(mb.channel).toBe('orderbook:BTC-USD:25');
    expect(mb.book.levelCount.bids).toBe(25);
    expect(mb.book.levelCount.asks).toBe(25);
    const mismatches: string[] = [];
    const compared = new Set<number>();
    mb.on('update', (bk) => {
      const node = nodeBooks.get(bk.height);
      if (!node) return;
      if (JSON.stringify(bk.wire()) !== JSON.stringify(node)) mismatches.push(`at ${bk.height}`);
      compared.add(bk.height);
    });
    // better bids push the worst of the cut out, cancelling them lets the old ones back in; same on the asks
    const [bidder, asker] = makers as [Trader, Trader];
    for (let round = 0; round < 3; round++) {
      const bids = Array.from({ length: 8 }, (_, i) => ({ op: 'place' as const, market: 'BTC-USD', side: 'buy' as const, price: String(64_950 + i), size: '0.002', clientId: bidder.nextClientId() }));
      const asks = Array.from({ length: 8 }, (_, i) => ({ op: 'place' as const, market: 'BTC-USD', side: 'sell' as const, price: String(65_050 + i), size: '0.002', clientId: asker.nextClientId() }));
      await Promise.all([bidder.batch(bids), asker.batch(asks)]);
      await sleep(60);
      await Promise.all([
        bidder.batch(bids.map((b) => ({ op: 'cancel' as const, clientId: b.clientId }))),
        asker.batch(asks.map((a) => ({ op: 'cancel' as const, clientId: a.clientId }))),
      ]);
      await sleep(60);
    }
    const end = t.node.app.height;
    await waitFor(() => mb.book.height >= Number(end), 5_000, 'book caught up');
    expect(mismatches).toEqual([]);
    expect(compared.size).toBeGreaterThan(10);
    expect(mb.resyncs).toBe(0);
    // the cut ends where it started: the ladders' best 25 a side
    expect(mb.book.bids()[0]!.price).toBe(6_493_900_000n);
    expect(mb.book.bids()[24]!.price).toBe(6_491_500_000n);
    expect(mb.book.levelCount.bids).toBe(25);
    watcher.close();
  });

  it('sends a cut snapshot, refuses a depth that is not offered, and leaves the whole-book channel whole', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    const snaps: Array<ChannelMessage<BookSnapshotData>> = [];
    await c.subscribe<BookSnapshotData>('orderbook:BTC-USD:100', (m) => void (m.type === 'snapshot' && snaps.push(m)));
    await c.subscribe<BookSnapshotData>('orderbook:BTC-USD', (m) => void (m.type === 'snapshot' && snaps.push(m)));
    await waitFor(() => snaps.length === 2, 5_000, 'two snapshots');
    const [cut, whole] = snaps as [ChannelMessage<BookSnapshotData>, ChannelMessage<BookSnapshotData>];
    expect(cut.channel).toBe('orderbook:BTC-USD:100');
    expect(cut.data.depth).toBe(100);
    expect(whole.data.depth).toBeUndefined();
    // 40 levels a side: a 100-level cut holds all of them
    expect(cut.data.bids.length).toBe(40);
    expect(whole.data.bids.length).toBe(40);
    for (const bad of ['orderbook:BTC-USD:10', 'orderbook:BTC-USD:abc', 'orderbook:BTC-USD:25:1']) {
      const e = await c.subscribe(bad, () => undefined).then(
        () => undefined,
        (err: Error & { code?: string }) => err,
      );
      expect(e, bad).toBeDefined();
      expect(e!.code, bad).toBe('unknown_channel');
      if (bad !== 'orderbook:BTC-USD:25:1') expect(e!.message).toMatch(/depths: 25, 100, 500/);
    }
    c.close();
  });
});
