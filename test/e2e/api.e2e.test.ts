/**
 * End-to-end over real sockets against a started devnet node: books built
 * from the feed equal the node's at every height, the snapshot/delta
 * hand-over holds under continuous block production, clients reconnect and
 * resync, and the SDK places orders idempotently without sequence errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerpchainClient, Trader, LocalOrderBook, signTx, feeFor, bookChecksum, type WireLevel, type ChannelMessage, type BookSnapshotData, type BookDeltaData, BookIntegrityError } from '../../client/index.js';
import { startTestNode, waitFor, sleep, type TestNode } from './node.js';

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The node's book for market 0 at each committed height, straight from the clob keeper. */
function recordNodeBooks(t: TestNode, market = 0): Map<number, { bids: WireLevel[]; asks: WireLevel[] }> {
  const books = new Map<number, { bids: WireLevel[]; asks: WireLevel[] }>();
  const f = (l: [bigint, bigint, number]): WireLevel => [l[0].toString(), l[1].toString(), l[2]];
  const snap = () => {
    const l = t.node.app.keepers.clob.levels(market, 1_000_000);
    books.set(Number(t.node.app.height), { bids: l.bids.map(f), asks: l.asks.map(f) });
  };
  snap();
  t.node.app.onCommit(snap);
  return books;
}

/** Random order flow from several traders until `until()` holds. */
async function orderFlow(traders: Trader[], until: () => boolean, seed = 1): Promise<{ placed: number; failed: number }> {
  const r = rng(seed);
  let placed = 0;
  let failed = 0;
  const mine = traders.map(() => [] as number[]);
  await Promise.all(
    traders.map(async (tr, k) => {
      while (!until()) {
        const ops: Parameters<Trader['batch']>[0] = [];
        const n = 1 + Math.floor(r() * 4);
        for (let i = 0; i < n; i++) {
          const side = r() < 0.5 ? 'buy' : 'sell';
          if (mine[k]!.length > 4 && r() < 0.3) {
            ops.push({ op: 'cancel', clientId: mine[k]!.splice(Math.floor(r() * mine[k]!.length), 1)[0]! });
            continue;
          }
          // around $65,000: mostly resting, sometimes crossing
          const offset = Math.floor(r() * 40) - (side === 'buy' ? 35 : 5);
          const price = String(side === 'buy' ? 65_000 + offset : 65_000 - offset);
          const clientId = tr.nextClientId();
          ops.push({ op: 'place', market: 'BTC-USD', side, price, size: (0.001 * (1 + Math.floor(r() * 5))).toFixed(3), clientId, timeInForce: r() < 0.15 ? 'ioc' : 'gtc' });
          mine[k]!.push(clientId);
        }
        try {
          await tr.batch(ops);
          placed += ops.length;
        } catch {
          failed++; // e.g. a cancel of an order already filled: the whole batch fails, which is fine here
        }
      }
    }),
  );
  return { placed, failed };
}

describe('WebSocket API end to end', () => {
  let t: TestNode;
  let traders: Trader[];
  let tradeClient: PerpchainClient;

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 15, accounts: 4 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    tradeClient = await PerpchainClient.connect({ url: t.url });
    traders = await Promise.all(t.keys.slice(1, 4).map((k) => Trader.create({ client: tradeClient, signer: k })));
    await Promise.all(traders.map((tr) => tr.deposit('500000')));
  });

  afterAll(async () => {
    tradeClient?.close();
    await t?.stop();
  });

  it('an SDK order shows up in two independent clients\' books, which equal the node\'s at every height over 100+ blocks of random flow', async () => {
    const nodeBooks = recordNodeBooks(t);
    const a = await PerpchainClient.connect({ url: t.url });
    const b = await PerpchainClient.connect({ url: t.url });
    const bookA = await a.orderBook('BTC-USD');
    const bookB = await b.orderBook('BTC-USD');
    const compared = { a: new Set<number>(), b: new Set<number>() };
    const mismatches: string[] = [];
    const check = (name: 'a' | 'b', book: LocalOrderBook) => {
      const node = nodeBooks.get(book.height);
      if (!node) return;
      const mine = book.wire();
      if (JSON.stringify(mine) !== JSON.stringify(node)) mismatches.push(`${name} at ${book.height}`);
      compared[name].add(book.height);
    };
    bookA.on('update', (bk) => check('a', bk));
    bookB.on('update', (bk) => check('b', bk));

    // one order through the SDK appears in both books
    const placed = await traders[0]!.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.002' });
    expect(placed.status).toBe('resting');
    await waitFor(() => bookA.book.bids().some((l) => l.price === 6_000_100_000n) && bookB.book.bids().some((l) => l.price === 6_000_100_000n), 5_000, 'order in both books');
    const level = bookA.book.bids().find((l) => l.price === 6_000_100_000n)!;
    expect(level.size).toBe(20_000_000n);

    const start = t.node.app.height;
    const flow = await orderFlow(traders, () => t.node.app.height >= start + 110n, 7);
    await sleep(100);
    expect(flow.placed).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
    expect(compared.a.size).toBeGreaterThanOrEqual(100);
    expect(compared.b.size).toBeGreaterThanOrEqual(100);
    expect(bookA.resyncs + bookB.resyncs).toBe(0);
    // the books really moved (trades happened, levels came and went)
    const fills = await a.fills('BTC-USD');
    expect(fills.length).toBeGreaterThan(0);
    expect(bookA.book.levelCount.bids + bookA.book.levelCount.asks).toBeGreaterThan(3);
    // the `book` method's checksum is of the levels it returns, also when depth cuts the book (it used to be the whole book's)
    for (const depth of [1, 2, undefined]) {
      const snap = await a.book('BTC-USD', depth);
      if (depth !== undefined) expect(snap.bids.length + snap.asks.length).toBeLessThanOrEqual(2 * depth);
      expect(snap.checksum, `depth ${depth}`).toBe(bookChecksum(snap.bids, snap.asks));
    }
    const whole = await a.book('BTC-USD');
    const cut = await a.book('BTC-USD', 1);
    if (whole.height === cut.height && (whole.bids.length > 1 || whole.asks.length > 1)) expect(cut.checksum).not.toBe(whole.checksum);
    a.close();
    b.close();
  });

  it('snapshot at H, deltas from H+1: subscriptions churning during continuous block production never miss or repeat a block', async () => {
    const nodeBooks = recordNodeBooks(t);
    const start = t.node.app.height;
    let stop = false;
    const flow = orderFlow(traders, () => stop, 11);
    const clients = await Promise.all(Array.from({ length: 4 }, () => PerpchainClient.connect({ url: t.url })));
    let subscriptions = 0;
    let deltas = 0;
    const errors: string[] = [];
    await Promise.all(
      clients.map(async (c, k) => {
        const r = rng(100 + k);
        while (t.node.app.height < start + 60n) {
          const book = new LocalOrderBook('BTC-USD');
          let first: { snap: number; delta?: number } | undefined;
          const stopAt = 1 + Math.floor(r() * 4);
          let got = 0;
          const done = new Promise<void>((resolve) => {
            const handler = (m: ChannelMessage) => {
              try {
                if (m.type === 'snapshot') {
                  book.applySnapshot(m as ChannelMessage<BookSnapshotData>);
                  first = { snap: m.height };
                } else {
                  if (first && first.delta === undefined) first.delta = m.height;
                  book.applyDelta(m as ChannelMessage<BookDeltaData>);
                  deltas++;
                }
                const node = nodeBooks.get(book.height);
                if (node && JSON.stringify(book.wire()) !== JSON.stringify(node)) errors.push(`client ${k}: book ≠ node at ${book.height}`);
                if (++got > stopAt) resolve();
              } catch (e) {
                errors.push(`client ${k}: ${(e as BookIntegrityError).message}`);
                resolve();
              }
            };
            void c.subscribe('orderbook:BTC-USD', handler);
          });
          await done;
          subscriptions++;
          if (first?.delta !== undefined && first.delta !== first.snap + 1) errors.push(`client ${k}: snapshot at ${first.snap}, first delta at ${first.delta}`);
          await c.conn.unsubscribe('orderbook:BTC-USD');
          await sleep(Math.floor(r() * 12));
        }
      }),
    );
    stop = true;
    await flow;
    for (const c of clients) c.close();
    expect(errors).toEqual([]);
    expect(subscriptions).toBeGreaterThan(20);
    expect(deltas).toBeGreaterThan(20);
  });

  it('reconnects and resyncs: after a dropped socket and after a corrupted local book the book equals the node\'s again', async () => {
    const nodeBooks = recordNodeBooks(t);
    let stop = false;
    const flow = orderFlow(traders, () => stop, 23);
    const c = await PerpchainClient.connect({ url: t.url, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const mb = await c.orderBook('BTC-USD');
    const equalNow = () => {
      const node = nodeBooks.get(mb.book.height);
      return mb.book.ready && !!node && JSON.stringify(mb.book.wire()) === JSON.stringify(node);
    };
    await waitFor(equalNow, 5_000, 'book equal at start');

    // 1) the socket dies: the client reconnects with backoff and gets a fresh snapshot
    const reconnecting: number[] = [];
    c.conn.on('reconnecting', (r) => reconnecting.push(r.delayMs));
    const heightBefore = mb.book.height;
    let readyWhileDown: boolean | undefined;
    const off = c.conn.on('close', () => queueMicrotask(() => (readyWhileDown = mb.book.ready)));
    c.conn.dropForTest();
    await waitFor(() => c.conn.reconnects >= 1 && mb.book.height > heightBefore + 3, 10_000, 'reconnect');
    off();
    expect(readyWhileDown).toBe(false); // a book without a live subscription does not claim to be the node's
    await waitFor(equalNow, 5_000, 'book equal after reconnect');
    expect(reconnecting.length).toBeGreaterThanOrEqual(1);

    // 2) the local book goes wrong: the next delta's checksum catches it and the book resyncs by itself
    const resyncs: string[] = [];
    mb.on('resync', (e) => resyncs.push(e.reason));
    mb.book.corruptForTest('bid', 1_000_000n, 12_345n);
    await waitFor(() => resyncs.length === 1, 5_000, 'resync after corruption');
    expect(resyncs[0]).toBe('checksum_mismatch');
    await waitFor(() => equalNow() && !mb.book.bids().some((l) => l.price === 1_000_000n), 5_000, 'book equal after resync');

    stop = true;
    await flow;
    c.close();
  });

  it('waits that cannot end are rejected: connect to nothing, waitTx after close or with a malformed hash', async () => {
    await expect(PerpchainClient.connect({ url: 'ws://127.0.0.1:1', connectTimeoutMs: 500 })).rejects.toThrow(/no welcome from ws:\/\/127.0.0.1:1 within 500 ms/);
    const c = await PerpchainClient.connect({ url: t.url });
    await expect(c.waitTx('zz')).rejects.toThrow(/bad_params: a tx hash is 64 hex characters/);
    c.close();
    await expect(c.waitTx('A'.repeat(64))).rejects.toThrow(/client closed/);
  });

  it('an unanswered submit_tx is submitted again (same bytes, same hash), not given up with an untyped error: the deposit lands once', async () => {
    const c = await PerpchainClient.connect({ url: t.url, requestTimeoutMs: 400 });
    const tr = await Trader.create({ client: c, signer: t.keys[3]! });
    const conn = c.conn as unknown as { onFrame(text: string): void };
    const onFrame = conn.onFrame.bind(c.conn);
    let swallowed = 0;
    conn.onFrame = (text: string) => {
      if (swallowed === 0 && text.includes('"check_tx"')) {
        swallowed++;
        return; // the node's answer to the first submit_tx is lost
      }
      onFrame(text);
    };
    const before = BigInt((await c.subaccount(tr.address, 0)).collateral);
    await tr.deposit('7');
    expect(swallowed).toBe(1);
    await waitFor(async () => BigInt((await c.subaccount(tr.address, 0)).collateral) !== before, 5_000, 'the deposit');
    expect(BigInt((await c.subaccount(tr.address, 0)).collateral)).toBe(before + 7_000_000n);
    c.close();
  });

  it('a second subscription to a channel is refused without hurting the first (it used to silence it)', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    let first = 0;
    await c.subscribe('blocks', () => first++);
    await expect(c.subscribe('blocks', () => {})).rejects.toThrow(/already_subscribed/);
    const book = await c.orderBook('BTC-USD');
    await expect(c.orderBook('BTC-USD')).rejects.toThrow(/already_subscribed/);
    const h = t.node.app.height;
    await waitFor(() => t.node.app.height >= h + 3n && book.book.height >= Number(h) + 3, 5_000, 'blocks after the refused subscriptions');
    const seen = first;
    await waitFor(() => first > seen, 5_000, 'the first handler to keep receiving');
    c.close();
  });

  it('places idempotently: a submission whose socket dies mid-flight, and an explicit retry, make exactly one order', async () => {
    const c = await PerpchainClient.connect({ url: t.url, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    const tr = await Trader.create({ client: c, signer: t.keys[1]! });
    // kill the socket right after the submit_tx frame leaves
    const ws = (c.conn as unknown as { ws: { send(d: string): void } }).ws;
    const send = ws.send.bind(ws);
    let killed = false;
    ws.send = (d: string) => {
      send(d);
      if (!killed && d.includes('"submit_tx"')) {
        killed = true;
        c.conn.dropForTest();
      }
    };
    const clientId = 777_000 + Math.floor(Math.random() * 1000);
    const r1 = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '50000', size: '0.001', clientId });
    expect(killed).toBe(true);
    expect(c.conn.reconnects).toBeGreaterThanOrEqual(1);
    const r2 = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '50000', size: '0.001', clientId });
    expect(r2.alreadyPlaced).toBe(true);
    expect(r2.orderId).toBe(r1.orderId);
    const open = (await c.orders(tr.address, 0)).filter((o) => o.client_id === clientId);
    expect(open.length).toBe(1);
    expect(open[0]!.id).toBe(r1.orderId.toString());
    // the same client id on another market or side is a collision, not this order landing earlier
    await expect(tr.placeOrder({ market: 'ETH-USD', side: 'sell', price: '9000', size: '1', clientId })).rejects.toThrow(/holds order .*not this sell in market 1/);
    // and a batch whose place reuses the id while another op rides along failed as a whole: an error, not "already placed"
    const other = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '50002', size: '0.001' });
    await expect(tr.batch([{ op: 'place', market: 'BTC-USD', side: 'buy', price: '50000', size: '0.001', clientId }, { op: 'cancel', orderId: other.orderId }])).rejects.toThrow(/clob\/6/);
    expect((await c.orders(tr.address, 0)).some((o) => o.id === other.orderId.toString())).toBe(true); // the cancel did not run
    // an amend names the order's own market (its units convert the new price): another market is refused
    await expect(tr.amendOrder({ market: 'ETH-USD', orderId: other.orderId, price: '1999' })).rejects.toThrow(/is in market 0, not ETH-USD/);
    expect((await c.order(other.orderId)).price).toBe('5000200000');
    // a tx signed while the socket is down is still signed for the chain (the chain id used to be read from the
    // welcome, which a reconnect clears: "signed for \"\"", tx/4)
    c.conn.dropForTest();
    await waitFor(() => c.conn.welcome === undefined, 2_000, 'the welcome to be cleared');
    const r3 = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '50001', size: '0.001' });
    expect(r3.orderId).toBeGreaterThan(0n);
    c.close();
  });

  it('tracks sequences: 40 concurrent orders land without a sequence error, several per block, and a foreign tx is recovered from', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    const key = t.keys[2]!;
    const tr = await Trader.create({ client: c, signer: key });
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => tr.placeOrder({ market: 'ETH-USD', side: i % 2 ? 'buy' : 'sell', price: i % 2 ? String(2900 - i) : String(3100 + i), size: '0.01' })));
    expect(rs.every((r) => r.orderId > 0n)).toBe(true);
    const perBlock = new Map<number, number>();
    for (const r of rs) perBlock.set(r.height, (perBlock.get(r.height) ?? 0) + 1);
    expect(Math.max(...perBlock.values())).toBeGreaterThan(1);
    expect(tr.sequence.mismatches).toBe(0);

    // another program signs with the same key: the trader's local sequence is now stale
    const acct = await c.account(key.address);
    const foreign = await signTx({
      signer: key,
      signerAddress: key.address,
      messages: [{ typeUrl: '/perpchain.subaccounts.v1.MsgDeposit', value: { owner: key.address, subaccountNumber: 0, amount: '1000000' } }],
      fee: feeFor(200_000n, 1000n),
      chainId: c.chainId,
      accountNumber: BigInt(acct.account_number),
      sequence: tr.sequence.next!,
    });
    const sub = await c.submitTx(foreign);
    expect(sub.checkTx.code).toBe(0);
    const r = await tr.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2000', size: '0.01' });
    expect(r.status).toBe('resting');
    expect(tr.sequence.mismatches).toBe(1);
    c.close();
  });

  it('places, amends and cancels through the SDK in human units, refusing values off the tick or step before signing', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    const tr = await Trader.create({ client: c, signer: t.keys[3]! });
    await expect(tr.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2500.005', size: '0.01' })).rejects.toThrow(/tick 0.01; nearest: 2500 or 2500.01/);
    await expect(tr.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2500', size: '0.0105' })).rejects.toThrow(/step 0.001/);
    expect(tr.sequence.next).toBeUndefined(); // refused before signing: nothing was sent
    const p = await tr.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2500.01', size: '0.25' });
    let o = await c.order(p.orderId);
    expect([o.price, o.remaining]).toEqual(['2500010000', '250000000']);
    await tr.amendOrder({ market: 'ETH-USD', orderId: p.orderId, price: '2499.99', size: '0.2' });
    o = await c.order(p.orderId);
    expect([o.price, o.remaining]).toEqual(['2499990000', '200000000']);
    await tr.cancelOrder({ clientId: p.clientId });
    await expect(c.order(p.orderId)).rejects.toThrow(/clob\/7|not open/);
    c.close();
  });

  it('says how much of a reduce-only order the chain clipped to the position', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    const maker = await Trader.create({ client: c, signer: t.keys[1]!, subaccount: 1 });
    const taker = await Trader.create({ client: c, signer: t.keys[3]!, subaccount: 1 });
    await Promise.all([maker.deposit('20000'), taker.deposit('20000')]);
    // liquidity outside the earlier flow's prices (around $65,000), so these rest rather than trade at once
    await maker.batch([
      { op: 'place', market: 'BTC-USD', side: 'sell', price: '65900', size: '0.002' },
      { op: 'place', market: 'BTC-USD', side: 'buy', price: '64500', size: '0.01' },
    ]);
    const opened = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '66000', size: '0.002', timeInForce: 'ioc' });
    expect([opened.filled, opened.clipped]).toEqual([20_000_000n, 0n]);
    // sell 0.005 reduce-only against a 0.002 long: runs as a 0.002 order
    const closed = await taker.placeOrder({ market: 'BTC-USD', side: 'sell', price: '64000', size: '0.005', timeInForce: 'ioc', reduceOnly: true });
    expect(closed).toMatchObject({ status: 'filled', filled: 20_000_000n, remaining: 0n, clipped: 30_000_000n });
    c.close();
  });

  it('streams markets, blocks, trades, candles, risk and account channels', async () => {
    const c = await PerpchainClient.connect({ url: t.url });
    const seen = new Map<string, ChannelMessage[]>();
    const rec = (m: ChannelMessage) => seen.set(m.channel, [...(seen.get(m.channel) ?? []), m]);
    const who = traders[0]!.address;
    for (const ch of ['markets', 'blocks', 'risk', 'trades:BTC-USD', 'candles:BTC-USD:1m', `account:${who}`]) await c.subscribe(ch, rec);
    // cross the book so there is a trade involving `who`
    await traders[1]!.placeOrder({ market: 'BTC-USD', side: 'sell', price: '64990', size: '0.001' });
    await traders[0]!.placeOrder({ market: 'BTC-USD', side: 'buy', price: '65000', size: '0.001', timeInForce: 'ioc' });
    await waitFor(() => (seen.get(`account:${who}`) ?? []).some((m) => m.type === 'update' && (m.data as { fills: unknown[] }).fills.length > 0), 5_000, 'account fill');
    await waitFor(() => (seen.get('trades:BTC-USD') ?? []).some((m) => m.type === 'update'), 5_000, 'trade update');
    for (const [ch, msgs] of seen) {
      expect(msgs[0]!.type, ch).toBe('snapshot');
      // the channel's own sequence: the snapshot carries the last seq it contains, then +1 per message
      msgs.forEach((m, i) => expect(m.seq, ch).toBe(msgs[0]!.seq + i));
    }
    const blocks = seen.get('blocks')!.slice(1);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.height).toBe(blocks[i - 1]!.height + 1);
    const markets = seen.get('markets')![0]!.data as { markets: Array<{ ticker: string; oracle_price: string; open_interest: string }> };
    expect(markets.markets.map((m) => m.ticker)).toEqual(['BTC-USD', 'ETH-USD']);
    const acct = seen.get(`account:${who}`)![0]!.data as { subaccounts: Array<{ collateral: string }>; open_orders: unknown[] };
    expect(BigInt(acct.subaccounts[0]!.collateral)).toBeGreaterThan(0n);
    const candle = seen.get('candles:BTC-USD:1m')!.at(-1)!.data as { candles: Array<{ close: string; trades: number }> };
    expect(candle.candles.length).toBeGreaterThan(0);
    const risk = seen.get('risk')![0]!.data as { insurance_fund: string; bad_debt: string };
    expect(risk.bad_debt).toBe('0');
    c.close();
  });
});
