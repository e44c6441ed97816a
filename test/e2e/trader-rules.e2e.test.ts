/**
 * The SDK Trader (client/trader.ts) against a real devnet node: what a retried placement reports
 * (alreadyPlaced with the order's own status, fill and height; a collision when the id holds another
 * market's or side's order), the fallback when the node no longer knows the id, amends by client id, the
 * size a reduce-only order had clipped when part of it rests, a batch mixing cancels and places, and the
 * tx hash a timed-out submission carries. Client-id numbering is checked without a node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfflineDirectSigner } from '@cosmjs/proto-signing';
import { PerpchainClient, RequestTimeoutError, Trader, TxError, UnitsError } from '../../client/index.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

describe('client ids (no node)', () => {
  const offline = (clientIdStart: number) => Trader.create({ client: {} as PerpchainClient, signer: {} as OfflineDirectSigner, address: 'perp1offline', gasPriceMicro: 1000n, clientIdStart });

  it('never hands out 0 and wraps from 2^32 - 1 to 1: every id fits the uint32 field and 0 means "no client id"', async () => {
    const t = await offline(0);
    expect([t.nextClientId(), t.nextClientId()]).toEqual([1, 2]);
    const top = await offline(0xffff_ffff);
    expect([top.nextClientId(), top.nextClientId(), top.nextClientId()]).toEqual([0xffff_ffff, 1, 2]);
  });

  it('refuses an empty batch before anything is signed', async () => {
    await expect((await offline(5)).batch([])).rejects.toThrow(/empty batch/);
  });
});

describe('Trader against a devnet node', () => {
  let t: TestNode;
  let c: PerpchainClient;
  let maker: Trader;
  let taker: Trader;

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 15, accounts: 3 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    c = await PerpchainClient.connect({ url: t.url });
    maker = await Trader.create({ client: c, signer: t.keys[1]!, clientIdStart: 1_000 });
    taker = await Trader.create({ client: c, signer: t.keys[2]!, clientIdStart: 5_000 });
    await Promise.all([maker.deposit('50000'), taker.deposit('50000')]);
  });

  afterAll(async () => {
    c?.close();
    await t?.stop();
  });

  it('a retried placement reports the order it made: open, what it filled and the height it was placed at', async () => {
    // 0.001 of liquidity at 64,000 for a 0.003 buy: it fills 0.001 and rests 0.002
    await maker.placeOrder({ market: 'BTC-USD', side: 'sell', price: '64000', size: '0.001' });
    const first = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '64000', size: '0.003', clientId: 42 });
    expect([first.status, first.filled, first.remaining]).toEqual(['partially_filled', 10_000_000n, 20_000_000n]);
    await waitFor(() => t.node.app.height > BigInt(first.height) + 2n, 5_000, 'later blocks');
    const again = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '64000', size: '0.003', clientId: 42 });
    expect(again).toMatchObject({ alreadyPlaced: true, orderId: first.orderId, status: 'open', filled: 10_000_000n, remaining: 20_000_000n, height: first.height });
  });

  it('the same id on the same market but the other side, or the other market on the same side, is a collision', async () => {
    await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60000', size: '0.001', clientId: 43 });
    await expect(taker.placeOrder({ market: 'BTC-USD', side: 'sell', price: '70000', size: '0.001', clientId: 43 })).rejects.toThrow(/holds order \d+: buy in market 0, not this sell in market 0/);
    await expect(taker.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2000', size: '0.01', clientId: 43 })).rejects.toThrow(/holds order \d+: buy in market 0, not this buy in market 1/);
  });

  it('a retry of a cancelled order says closed', async () => {
    const p = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.001', clientId: 44 });
    await taker.cancelOrder({ orderId: p.orderId });
    const again = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.001', clientId: 44 });
    expect(again).toMatchObject({ alreadyPlaced: true, orderId: p.orderId, status: 'closed' });
  });

  it('when the node cannot say which order holds an id, the chain\'s error is read, and only for the id it names', async () => {
    const a = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60002', size: '0.001', clientId: 45 });
    const b = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60003', size: '0.001', clientId: 46 });
    const c2 = await PerpchainClient.connect({ url: t.url });
    try {
      c2.clientOrder = () => Promise.reject(new Error('the node restarted and lost its index')); // as after a restart
      const tr = await Trader.create({ client: c2, signer: t.keys[2]! });
      const again = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60002', size: '0.001', clientId: 45 });
      expect(again).toMatchObject({ alreadyPlaced: true, orderId: a.orderId, status: 'open' });
      // both ids landed earlier; the chain's error names only the first: the second cannot be resolved
      await expect(
        tr.batch([
          { op: 'place', market: 'BTC-USD', side: 'buy', price: '60002', size: '0.001', clientId: 45 },
          { op: 'place', market: 'BTC-USD', side: 'buy', price: '60003', size: '0.001', clientId: 46 },
        ]),
      ).rejects.toThrow(/clob\/6 .*client id 45 is order/);
      await tr.cancelOrder({ orderId: a.orderId });
      const closed = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60002', size: '0.001', clientId: 45 });
      expect(closed).toMatchObject({ alreadyPlaced: true, orderId: a.orderId, status: 'closed' });
      expect(b.orderId).toBeGreaterThan(0n);
    } finally {
      c2.close();
    }
  });

  it('an id reused after its order closed, on the other side, is a collision, also when only the chain\'s error can say so', async () => {
    const p = await taker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60004', size: '0.001', clientId: 47 });
    await taker.cancelOrder({ orderId: p.orderId });
    expect(await c.clientOrder(taker.address, 0, 47)).toMatchObject({ order_id: p.orderId.toString(), open: false, market_id: 0, side: 'buy', closed_reason: 'user_cancel' });
    await expect(taker.placeOrder({ market: 'BTC-USD', side: 'sell', price: '70000', size: '0.001', clientId: 47 })).rejects.toThrow(/holds order \d+: buy in market 0, not this sell in market 0/);
    const c2 = await PerpchainClient.connect({ url: t.url });
    try {
      c2.clientOrder = () => Promise.reject(new Error('connection lost')); // the node cannot answer: the chain's error is read
      const tr = await Trader.create({ client: c2, signer: t.keys[2]! });
      await expect(tr.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2000', size: '0.01', clientId: 47 })).rejects.toThrow(
        /was order \d+ \(buy in market 0\).*not this buy in market 1/,
      );
      expect(await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60004', size: '0.001', clientId: 47 })).toMatchObject({ alreadyPlaced: true, orderId: p.orderId, status: 'closed' });
    } finally {
      c2.close();
    }
  });

  it('an amend by client id is checked against the order\'s market; a closed order is left to the chain to refuse', async () => {
    const p = await maker.placeOrder({ market: 'BTC-USD', side: 'buy', price: '61000', size: '0.001', clientId: 77 });
    await expect(maker.amendOrder({ market: 'ETH-USD', clientId: 77, price: '1999' })).rejects.toThrow(/with client id 77 is in market 0, not ETH-USD/);
    await maker.cancelOrder({ orderId: p.orderId });
    const e = await maker.amendOrder({ market: 'BTC-USD', clientId: 77, price: '61001' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TxError); // the chain's refusal, not a units error made up by the SDK
    expect(e).not.toBeInstanceOf(UnitsError);
  });

  it('a clipped reduce-only order that partly rests: clipped = requested − filled − remaining', async () => {
    const m = await Trader.create({ client: c, signer: t.keys[1]!, subaccount: 2 });
    const k = await Trader.create({ client: c, signer: t.keys[2]!, subaccount: 2 });
    await Promise.all([m.deposit('20000'), k.deposit('20000')]);
    await m.placeOrder({ market: 'BTC-USD', side: 'sell', price: '66100', size: '0.002' });
    const opened = await k.placeOrder({ market: 'BTC-USD', side: 'buy', price: '66100', size: '0.002', timeInForce: 'ioc' });
    expect(opened.filled).toBe(20_000_000n); // a 0.002 long
    await m.placeOrder({ market: 'BTC-USD', side: 'buy', price: '66050', size: '0.001' });
    // sell 0.005 reduce-only: clipped to the 0.002 position, 0.001 fills against the bid, 0.001 rests
    const r = await k.placeOrder({ market: 'BTC-USD', side: 'sell', price: '66050', size: '0.005', reduceOnly: true });
    expect(r).toMatchObject({ filled: 10_000_000n, remaining: 10_000_000n, clipped: 30_000_000n });
  });

  it('a batch of a cancel then a place reports the place\'s own order', async () => {
    const old = await taker.placeOrder({ market: 'ETH-USD', side: 'buy', price: '2001', size: '0.01' });
    const r = await taker.batch([
      { op: 'cancel', orderId: old.orderId },
      { op: 'place', market: 'ETH-USD', side: 'buy', price: '2002', size: '0.01', clientId: 900 },
    ]);
    expect(r.results[0]).toBeNull();
    const placed = (await c.orders(taker.address, 0)).find((o) => o.client_id === 900);
    expect(placed).toBeDefined();
    expect(r.results[1]).toMatchObject({ orderId: BigInt(placed!.id), clientId: 900, status: 'resting' });
  });

  it('a placement that fails in its block with another clob error keeps that error (only clob/6 means "already placed")', async () => {
    // no ETH position in this subaccount: a reduce-only sell passes CheckTx and fails in the block with clob/9
    const e = await taker.placeOrder({ market: 'ETH-USD', side: 'sell', price: '2500', size: '0.01', reduceOnly: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TxError);
    expect([(e as TxError).stage, (e as TxError).codespace, (e as TxError).code]).toEqual(['deliver', 'clob', 9]);
    expect((e as TxError).errorName).toBe('reduce_only_would_increase');
  });

  it('a submission that is never answered fails with its tx hash, so its fate can be asked for', async () => {
    const c3 = await PerpchainClient.connect({ url: t.url, requestTimeoutMs: 100 });
    try {
      const tr = await Trader.create({ client: c3, signer: t.keys[1]!, subaccount: 3 });
      const conn = c3.conn as unknown as { onFrame(text: string): void };
      const onFrame = conn.onFrame.bind(c3.conn);
      conn.onFrame = (text: string) => {
        if (!text.includes('"check_tx"')) onFrame(text); // every answer to submit_tx is lost
      };
      const e = await tr.deposit('1').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RequestTimeoutError);
      expect((e as RequestTimeoutError).txHash).toMatch(/^[0-9A-F]{64}$/i);
    } finally {
      c3.close();
    }
  });
});
