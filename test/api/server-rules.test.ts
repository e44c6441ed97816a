/**
 * ApiServer rules over a real socket, on a stand-in App (fake-app.ts) whose
 * blocks the test commits one at a time and a stub TxSubmitter: when a
 * tx_result push comes (inclusion of a tx already in the mempool, drop,
 * timeout after exactly api.inclusion_timeout_blocks), what `tx` answers for
 * a landed tx, the base64 check of submit_tx, the trades snapshot (the latest
 * 100), and an account channel shared by two connections. Port 0 only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiServer, type SubmitResult, type TxSubmitter } from '../../chain/api/index.js';
import { TestKey } from '../helpers/keys.js';
import { ev, fill, FakeApp, txResult } from './fake-app.js';

type Msg = Record<string, any>;

class Client {
  readonly msgs: Msg[] = [];
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.msgs.push(JSON.parse(d.toString()) as Msg));
  }
  static async open(port: number): Promise<Client> {
    const c = new Client(new WebSocket(`ws://127.0.0.1:${port}`));
    await c.next((m) => m.type === 'welcome');
    return c;
  }
  async next(pred: (m: Msg) => boolean, timeoutMs = 3_000): Promise<Msg> {
    const start = Date.now();
    for (;;) {
      const m = this.msgs.find(pred);
      if (m) return m;
      if (Date.now() - start > timeoutMs) throw new Error(`no matching message in ${timeoutMs} ms; last: ${JSON.stringify(this.msgs.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async call(method: string, params?: Msg): Promise<Msg> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
    return this.next((m) => m.id === id && !('type' in m));
  }
  txResults(id: number): Msg[] {
    return this.msgs.filter((m) => m.type === 'tx_result' && m.id === id);
  }
}

/** A submitter whose CheckTx answer the test sets; it records what reached it and exposes the drop listeners. */
class StubSubmitter implements TxSubmitter {
  readonly kind = 'stub';
  answer: Omit<SubmitResult, 'hash'> = { code: 0, codespace: '', log: '', gasWanted: 0n, gasUsed: 0n, events: [] };
  readonly seen: Uint8Array[] = [];
  readonly dropListeners = new Map<string, (reason: string) => void>();
  async submit(tx: Uint8Array): Promise<SubmitResult> {
    this.seen.push(tx);
    return { hash: HASH, ...this.answer };
  }
  onDropped(hash: string, l: (reason: string) => void): void {
    this.dropListeners.set(hash, l);
  }
}

const HASH = 'AB'.repeat(32);
const TX = Buffer.from('signed tx bytes').toString('base64');

let closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function serve(limits: Record<string, number> = {}) {
  const app = new FakeApp();
  const submitter = new StubSubmitter();
  const api = new ApiServer({ app, submitter, host: '127.0.0.1', port: 0, limits, serveWeb: false });
  const { port } = await api.listen();
  closers.push(() => api.close());
  const open = async () => {
    const c = await Client.open(port);
    closers.push(() => c.ws.terminate());
    return c;
  };
  const c = await open();
  // the blocks channel tells when a height has been fanned out (tx results go out before it)
  await c.call('subscribe', { channel: 'blocks' });
  const commit = async (o: Parameters<FakeApp['commit']>[0] = {}) => {
    const b = app.commit(o);
    await c.next((m) => m.channel === 'blocks' && m.type === 'update' && m.height === Number(b.height));
  };
  return { app, submitter, api, c, open, commit, port };
}

describe('tx_result pushes', () => {
  it('times out exactly api.inclusion_timeout_blocks blocks after the submission, once', async () => {
    const { c, commit } = await serve({ inclusion_timeout_blocks: 3 });
    const r = await c.call('submit_tx', { tx: TX }); // at height 0: the deadline is height 3
    expect(r.result.check_tx.code).toBe(0);
    await commit();
    await commit();
    expect(c.txResults(r.id)).toEqual([]);
    await commit();
    expect(c.txResults(r.id).map((m) => m.result.status)).toEqual(['timeout']);
    await commit();
    expect(c.txResults(r.id).length).toBe(1);
  });

  it('a tx already in the mempool (tx/26) is answered with its inclusion like a first submission', async () => {
    const { c, commit, submitter } = await serve();
    submitter.answer = { ...submitter.answer, code: 26, codespace: 'tx', log: 'already in the mempool' };
    const r = await c.call('submit_tx', { tx: TX });
    await commit({ txs: [txResult([])], hashes: [HASH] });
    expect(c.txResults(r.id).map((m) => [m.result.status, m.result.height])).toEqual([['included', 1]]);
  });

  it('a dropped tx is answered "dropped" and nothing more (no later timeout)', async () => {
    const { c, commit, submitter } = await serve({ inclusion_timeout_blocks: 2 });
    const r = await c.call('submit_tx', { tx: TX });
    submitter.dropListeners.get(HASH)!('failed recheck');
    await c.next((m) => m.type === 'tx_result' && m.id === r.id);
    for (let i = 0; i < 3; i++) await commit();
    expect(c.txResults(r.id).map((m) => [m.result.status, m.result.reason])).toEqual([['dropped', 'failed recheck']]);
  });

  it('`tx` answers a landed tx with its inclusion', async () => {
    const { c, commit } = await serve();
    await commit({ txs: [txResult([], 5)], hashes: [HASH] });
    const r = await c.call('tx', { hash: HASH.toLowerCase() });
    expect(r.result).toMatchObject({ hash: HASH, status: 'included', height: 1, code: 5 });
  });
});

describe('submit_tx', () => {
  it('refuses base64 whose length is not a multiple of 4, without handing anything to the chain', async () => {
    const { c, submitter } = await serve();
    const r = await c.call('submit_tx', { tx: 'QUJD' + 'QUJ' });
    expect(r.error?.code).toBe('bad_params');
    expect(submitter.seen.length).toBe(0);
  });

  it('POST /tx answers 200 for a tx already in the mempool (tx/26): it is accepted, its result follows as for the first copy', async () => {
    const { port, submitter } = await serve();
    submitter.answer = { ...submitter.answer, code: 26, codespace: 'tx', log: 'already in the mempool' };
    const res = await fetch(`http://127.0.0.1:${port}/tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx: TX }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Msg).check_tx.code).toBe(26);
    // a refusal is 400
    submitter.answer = { ...submitter.answer, code: 12, codespace: 'tx', log: 'expected 2, got 1' };
    expect((await fetch(`http://127.0.0.1:${port}/tx`, { method: 'POST', body: JSON.stringify({ tx: TX }) })).status).toBe(400);
  });
});

describe('frame size (api.max_frame_bytes)', () => {
  it('a frame of exactly max_frame_bytes is processed; one byte more is refused', async () => {
    const { c } = await serve({ max_frame_bytes: 200 });
    // JSON allows padding with spaces: the same request at any length
    const frame = (id: number, bytes: number) => {
      const body = `{"id":${id},"method":"ping"}`;
      return body.slice(0, -1) + ' '.repeat(bytes - body.length) + '}';
    };
    expect(frame(90, 200).length).toBe(200);
    c.ws.send(frame(90, 200));
    expect((await c.next((m) => m.id === 90)).result?.pong).toBe(true);
    c.ws.send(frame(91, 201));
    expect((await c.next((m) => m.id === 91)).error?.code).toBe('frame_too_large');
  });
});

describe('channels', () => {
  it('the trades snapshot has the latest 100 trades, oldest first', async () => {
    const { c, commit } = await serve();
    await commit({ txs: [txResult(Array.from({ length: 150 }, (_, i) => fill({ price: 1000 + i, size: 1 })))] });
    await c.call('subscribe', { channel: 'trades:BTC-USD' });
    const s = await c.next((m) => m.channel === 'trades:BTC-USD' && m.type === 'snapshot');
    const prices = (s.data.trades as Array<{ price: string }>).map((t) => t.price);
    expect(prices.length).toBe(100);
    expect([prices[0], prices[99]]).toEqual(['1050', '1149']);
  });

  it('an account channel watched by two connections keeps updating one after the other unsubscribes', async () => {
    const { app, c, open, commit } = await serve();
    const X = new TestKey('server-rules-x').address;
    app.answers.set(`subaccounts/owner/${X}`, []);
    const d = await open();
    await c.call('subscribe', { channel: `account:${X}` });
    await d.call('subscribe', { channel: `account:${X}` });
    await d.call('unsubscribe', { channel: `account:${X}` });
    await commit({ events: [ev('subaccounts.deposit', { owner: X, number: '0', amount: '5' })] });
    const u = await c.next((m) => m.channel === `account:${X}` && m.type === 'update');
    expect(u.data.events.map((e: Msg) => e.type)).toEqual(['subaccounts.deposit']);
  });
});

describe('per-address rate limit', () => {
  it('outlives the address\'s last connection: closing everything and reconnecting does not refill the budget', async () => {
    // 2 messages/s per address: a token takes 500 ms to come back, far longer than a reconnect here
    const { c, open } = await serve({ max_messages_per_second_per_ip: 2, max_messages_per_second: 100 });
    await c.call('ping'); // with the subscribe to blocks, the address's 2 tokens are spent
    expect((await c.call('ping')).error).toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => {
      c.ws.once('close', r);
      c.ws.close();
    });
    const again = await open();
    expect((await again.call('ping')).error).toMatchObject({ code: 'rate_limited' });
  });
});
