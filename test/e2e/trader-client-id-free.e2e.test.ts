/**
 * When the Trader may not report "already placed": a batch that repeats a client id is refused before it is
 * signed (the chain would fail the whole tx on the second copy, with a message naming an order the failed tx
 * never kept, which the Trader used to report as already placed); and when the node answers `client_order`
 * with `not_found` (the id is free), a clob/6 is thrown, not resolved from the chain's message. The message is
 * read only when the node cannot answer at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestError, PerpchainClient, Trader, TxError, UnitsError } from '../../client/index.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

describe('Trader: a client id the chain refuses and the node calls free', () => {
  let t: TestNode;
  let c: PerpchainClient;
  let tr: Trader;

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 20, accounts: 2 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    c = await PerpchainClient.connect({ url: t.url });
    tr = await Trader.create({ client: c, signer: t.keys[1]! });
    await tr.deposit('10000');
  });
  afterAll(async () => {
    c?.close();
    await t?.stop();
  });

  it('a batch placing two orders under one client id is refused before anything is signed', async () => {
    const seq = tr.sequence.next;
    const op = { op: 'place' as const, market: 'BTC-USD', side: 'buy' as const, price: '60000', size: '0.001', clientId: 42 };
    const e = await tr.batch([op, { ...op, price: '59000' }]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnitsError);
    expect((e as Error).message).toMatch(/client id 42 is used by two placements of this batch/);
    expect(tr.sequence.next).toBe(seq); // nothing was signed
    expect((await c.orders(tr.address, 0)).length).toBe(0);
  });

  it('not_found from client_order is a clob/6 error, not "already placed"; a connection failure still reads the message', async () => {
    const placed = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.001', clientId: 43 });
    const c2 = await PerpchainClient.connect({ url: t.url });
    try {
      const other = await Trader.create({ client: c2, signer: t.keys[1]! });
      // as if the node had released the id between the chain's refusal and the question
      c2.clientOrder = () => Promise.reject(new ApiRequestError('client_order', { code: 'not_found', message: 'client id 43 is free' }));
      const e = await other.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.001', clientId: 43 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TxError);
      expect((e as TxError).message).toMatch(/clob\/6 .*the node says client id 43 is free now/);
      c2.clientOrder = () => Promise.reject(new Error('connection lost'));
      expect(await other.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60001', size: '0.001', clientId: 43 })).toMatchObject({ alreadyPlaced: true, orderId: placed.orderId });
    } finally {
      c2.close();
    }
  });
});
