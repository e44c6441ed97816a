/**
 * Bad input and every limit of the API, over real sockets: each gets a clear
 * error on the socket, the connection is kept where that is sensible, and
 * the node keeps serving everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request as httpRequest } from 'node:http';
import { startTestNode, waitFor, sleep, type TestNode } from './node.js';

type Msg = Record<string, any>;

class Raw {
  readonly msgs: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.msgs.push(JSON.parse(d.toString()) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {});
  }

  static async open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Raw> {
    const r = new Raw(new WebSocket(url, opts));
    await r.next((m) => m.type === 'welcome' || m.type === 'error');
    return r;
  }

  async next(pred: (m: Msg) => boolean, timeoutMs = 5_000): Promise<Msg> {
    const start = Date.now();
    for (;;) {
      const m = this.msgs.find(pred);
      if (m) return m;
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) before a matching message`);
      if (Date.now() - start > timeoutMs) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.msgs.slice(-3))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  send(x: Msg | string): void {
    this.ws.send(typeof x === 'string' ? x : JSON.stringify(x));
  }

  /** Send a request and wait for the answer with its id. */
  async call(method: string, params?: Msg): Promise<Msg> {
    const id = this.nextId++;
    this.send({ id, method, ...(params ? { params } : {}) });
    return this.next((m) => m.id === id);
  }

  async closedWithin(ms: number): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closed !== undefined, ms, 'close');
    return this.closed!;
  }

  close(): void {
    this.ws.terminate();
  }
}

describe('API limits and bad input', () => {
  let t: TestNode;
  const open: Raw[] = [];
  const conn = async (opts?: WebSocket.ClientOptions) => {
    const r = await Raw.open(t.url, opts);
    open.push(r);
    return r;
  };
  const closeAll = async () => {
    for (const r of open.splice(0)) r.close();
    await waitFor(() => t.node.api.connectionCount === 0, 5_000, 'connections to close');
  };

  beforeAll(async () => {
    t = await startTestNode({
      blockIntervalMs: 25,
      api: { max_subscriptions: 3, max_connections_per_ip: 5, max_messages_per_second: 20, heartbeat_ms: 1000, max_frame_bytes: 4096, max_buffered_bytes: 256 * 1024, slow_consumer_grace_ms: 1500 },
    });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
  });

  afterAll(async () => {
    for (const r of open) r.close();
    await t?.stop();
  });

  it('welcomes with the chain id and the limits', async () => {
    const r = await conn();
    const w = r.msgs[0]!;
    expect(w.type).toBe('welcome');
    expect(w.data.chain_id).toBe('perpchain-e2e-1');
    expect(w.data.limits).toMatchObject({ max_subscriptions: 3, max_connections_per_ip: 5, max_messages_per_second: 20, max_frame_bytes: 4096, heartbeat_ms: 1000 });
    await closeAll();
  });

  it('answers malformed JSON, bad requests, unknown methods, channels and markets with clear errors and keeps the connection', async () => {
    const r = await conn();
    r.send('{"id": 1, "method": ');
    expect((await r.next((m) => m.error?.code === 'bad_json')).error.message).toMatch(/not valid JSON/);
    r.send('[1,2,3]');
    expect((await r.next((m) => m.error?.code === 'bad_request')).error.message).toMatch(/expected \{"id"/);
    r.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await r.next((m) => m.error?.message?.includes('binary'))).error.code).toBe('bad_request');
    expect((await r.call('frobnicate')).error).toMatchObject({ code: 'unknown_method' });
    expect((await r.call('subscribe', { channel: 'weather' })).error.code).toBe('unknown_channel');
    expect((await r.call('subscribe', { channel: 'orderbook' })).error.code).toBe('unknown_channel');
    expect((await r.call('subscribe', { channel: 'orderbook:DOGE-USD' })).error).toMatchObject({ code: 'unknown_market', message: expect.stringContaining('BTC-USD, ETH-USD') });
    expect((await r.call('subscribe', { channel: 'candles:BTC-USD:7m' })).error.message).toMatch(/interval/);
    expect((await r.call('subscribe', { channel: 'account:perp1notanaddress' })).error.code).toBe('bad_params');
    expect((await r.call('subscribe', {})).error.code).toBe('bad_params');
    expect((await r.call('book', { market: 'BTC-USD', depth: -1 })).error.code).toBe('bad_params');
    expect((await r.call('order', { id: '999999' })).error).toMatchObject({ code: 'query_failed', chain_code: 'clob/7' });
    // still usable
    expect((await r.call('ping')).result.pong).toBe(true);
    expect(r.closed).toBeUndefined();
    await closeAll();
  });

  it('refuses subscribing twice and unsubscribing what is not subscribed', async () => {
    const r = await conn();
    expect((await r.call('subscribe', { channel: 'blocks' })).result).toMatchObject({ channel: 'blocks', subscribed: true });
    expect((await r.call('subscribe', { channel: 'blocks' })).error).toMatchObject({ code: 'already_subscribed' });
    expect((await r.call('unsubscribe', { channel: 'trades:BTC-USD' })).error).toMatchObject({ code: 'not_subscribed', message: 'not subscribed to trades:BTC-USD' });
    expect((await r.call('unsubscribe', { channel: 'blocks' })).result).toMatchObject({ subscribed: false });
    expect((await r.call('unsubscribe', { channel: 'blocks' })).error.code).toBe('not_subscribed');
    await closeAll();
  });

  it('limits subscriptions per connection (api.max_subscriptions)', async () => {
    const r = await conn();
    for (const ch of ['blocks', 'markets', 'orderbook:BTC-USD']) expect((await r.call('subscribe', { channel: ch })).result.subscribed).toBe(true);
    const e = (await r.call('subscribe', { channel: 'trades:BTC-USD' })).error;
    expect(e).toMatchObject({ code: 'too_many_subscriptions' });
    expect(e.message).toMatch(/at most 3 .*api.max_subscriptions/);
    expect((await r.call('unsubscribe', { channel: 'markets' })).result.subscribed).toBe(false);
    expect((await r.call('subscribe', { channel: 'trades:BTC-USD' })).result.subscribed).toBe(true);
    await closeAll();
  });

  it('answers invalid tx bytes with a clear error', async () => {
    const r = await conn();
    expect((await r.call('submit_tx', { tx: 'not base64!!' })).error).toMatchObject({ code: 'bad_params', message: expect.stringContaining('base64') });
    expect((await r.call('submit_tx', { tx: 42 })).error.code).toBe('bad_params');
    const garbage = await r.call('submit_tx', { tx: Buffer.from('definitely not a TxRaw').toString('base64') });
    expect(garbage.result.check_tx).toMatchObject({ code: 3, codespace: 'tx' });
    expect(garbage.result.check_tx.log).toMatch(/decode/i);
    expect((await r.call('tx', { hash: 'abc' })).error.code).toBe('bad_params');
    expect((await r.call('tx', { hash: garbage.result.hash })).result.status).toBe('unknown');
    expect(r.closed).toBeUndefined();
    await closeAll();
  });

  it('limits frame size (api.max_frame_bytes): an oversized frame gets an error, a huge one closes the socket with 1009', async () => {
    const r = await conn();
    r.send(JSON.stringify({ id: 5, method: 'ping', params: { pad: 'x'.repeat(5000) } }));
    const e = await r.next((m) => m.error?.code === 'frame_too_large');
    expect(e.id).toBe(5);
    expect(e.error.message).toMatch(/larger than api.max_frame_bytes \(4096\)/);
    expect((await r.call('ping')).result.pong).toBe(true);
    r.send('x'.repeat(20_000));
    expect((await r.closedWithin(3_000)).code).toBe(1009);
    await closeAll();
  });

  it('limits the message rate (api.max_messages_per_second): excess is refused, a flood is disconnected, others are unaffected', async () => {
    const other = await conn();
    const r = await conn();
    for (let i = 0; i < 30; i++) r.send({ id: 100 + i, method: 'ping' });
    await r.next((m) => m.id === 129);
    const refused = r.msgs.filter((m) => m.error?.code === 'rate_limited');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.error.message).toMatch(/at most 20 messages\/s/);
    expect(refused.every((m) => typeof m.id === 'number')).toBe(true);
    expect(r.closed).toBeUndefined();
    await sleep(1100);
    for (let i = 0; i < 200; i++) r.send({ id: 1000 + i, method: 'ping' });
    const closed = await r.closedWithin(5_000);
    expect(closed.code).toBe(4029);
    expect(r.msgs.some((m) => m.type === 'error' && m.error.code === 'rate_limited' && /disconnecting/.test(m.error.message))).toBe(true);
    expect((await other.call('ping')).result.pong).toBe(true);
    await closeAll();
  });

  it('limits connections per remote address (api.max_connections_per_ip)', async () => {
    for (let i = 0; i < 5; i++) await conn();
    const sixth = await conn();
    expect(sixth.msgs[0]).toMatchObject({ type: 'error', error: { code: 'too_many_connections' } });
    expect(sixth.msgs[0]!.error.message).toMatch(/at most 5/);
    expect((await sixth.closedWithin(3_000)).code).toBe(4030);
    // a slot frees up when one closes
    open[0]!.close();
    await waitFor(() => t.node.api.connectionCount === 4, 3_000, 'one connection to close');
    const again = await conn();
    expect(again.msgs[0]!.type).toBe('welcome');
    await closeAll();
  });

  it('drops a peer that stops answering pings (api.heartbeat_ms) and keeps a live one', async () => {
    const live = await conn();
    const dead = await conn({ autoPong: false });
    expect((await dead.closedWithin(6_000)).code).toBe(1006);
    await sleep(1_200);
    expect(live.closed).toBeUndefined();
    expect(t.node.api.counters.heartbeatDrops).toBeGreaterThanOrEqual(1);
    await closeAll();
  });
});

describe('backpressure', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 25, api: { max_messages_per_second: 1_000_000, max_messages_per_second_per_ip: 1_000_000, max_buffered_bytes: 256 * 1024, slow_consumer_grace_ms: 3000 } });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** Pause reading and ask for ~20 MB of answers until the server calls us a slow consumer. */
  async function stall(r: Raw): Promise<void> {
    const sock = (r.ws as unknown as { _socket: { pause(): void } })._socket;
    sock.pause();
    const before = t.node.api.counters.slowConsumers;
    for (let i = 0; i < 40 && t.node.api.counters.slowConsumers === before; i++) {
      for (let k = 0; k < 500; k++) r.send({ id: i * 1000 + k, method: 'markets' });
      await sleep(30);
    }
    expect(t.node.api.counters.slowConsumers).toBe(before + 1);
  }

  it('tells a slow consumer why and disconnects it; its buffer stays bounded; others are unaffected', async () => {
    const other = await Raw.open(t.url);
    await other.call('subscribe', { channel: 'blocks' });
    const slow = await Raw.open(t.url);
    await stall(slow);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closedWithin(5_000);
    expect(closed.code).toBe(4031);
    const err = slow.msgs.find((m) => m.type === 'error');
    expect(err?.error.code).toBe('slow_consumer');
    expect(err?.error.message).toMatch(/api.max_buffered_bytes \(262144\)/);
    // what it got is bounded: answers stop at the bound
    const answers = slow.msgs.filter((m) => m.result).length;
    expect(answers).toBeLessThan(20_000);
    const h = other.msgs.filter((m) => m.channel === 'blocks').length;
    await sleep(200);
    expect(other.msgs.filter((m) => m.channel === 'blocks').length).toBeGreaterThan(h);
    other.close();
  });

  it('destroys a stalled consumer that never reads after the grace period', async () => {
    const slow = await Raw.open(t.url);
    await stall(slow);
    await waitFor(() => t.node.api.connectionCount === 0, 6_000, 'stalled connection destroyed');
    slow.close();
  });
});

describe('HTTP routes', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 50 });
    await waitFor(() => t.node.app.height >= 1, 10_000, 'first block');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves status, queries, the market page and a helpful 404', async () => {
    const s = (await (await fetch(`${t.httpUrl}/status`)).json()) as { chain_id: string; submitter: string };
    expect(s).toMatchObject({ chain_id: 'perpchain-e2e-1', submitter: 'devnet-mempool' });
    const m = (await (await fetch(`${t.httpUrl}/query/perpetuals/markets`)).json()) as Array<{ ticker: string }>;
    expect(m.map((x) => x.ticker)).toEqual(['BTC-USD', 'ETH-USD']);
    const page = await fetch(`${t.httpUrl}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<script type="module" src="\/app.js">/);
    expect((await fetch(`${t.httpUrl}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    const nf = await fetch(`${t.httpUrl}/nope`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: { message: string } }).error.message).toMatch(/market page/);
  });

  it('answers what a review found it mishandled: store queries, bad query arguments, HEAD, "//status", odd POST /tx bodies', async () => {
    type Err = { error: { code: string; chain_code?: string; message: string } };
    // store/<key>: the raw bytes in base64 (they used to go through JSON.parse and fail as "internal")
    const st = (await (await fetch(`${t.httpUrl}/query/store/auth/params/`)).json()) as { key: string; value_base64: string; height: string };
    expect(st.key).toBe('auth/params/');
    expect(Buffer.from(st.value_base64, 'base64').length).toBeGreaterThan(0);
    const absent = (await (await fetch(`${t.httpUrl}/query/store/bank/bal/perp1nothere`)).json()) as { value_base64: string };
    expect(absent.value_base64).toBe('');
    // malformed or unknown arguments are the asker's mistake, with a registered code (they used to answer 200 with nulls)
    for (const path of ['clob/book/abc', 'clob/book/99', 'clob/fills/99', 'prices/price/', 'auth/account/notanaddress', 'bank/balance', 'subaccounts/owner/perp1xyz']) {
      const r = await fetch(`${t.httpUrl}/query/${path}`);
      expect(r.status, path).toBe(400);
      expect(((await r.json()) as Err).error, path).toMatchObject({ code: 'query_failed', chain_code: 'query/4' });
    }
    // a market that exists but has no order yet (its book is built on the first order) is an empty book, not an error
    const empty0 = await fetch(`${t.httpUrl}/query/clob/book/1`);
    expect(empty0.status).toBe(200);
    expect(await empty0.json()).toMatchObject({ market_id: 1, bids: [], asks: [] });
    // each argument is decoded once: %25 is "%" (it was decoded twice, so %25 failed and %2525 meant "%")
    const pct = (await (await fetch(`${t.httpUrl}/query/clob/order/%25`)).json()) as Err;
    expect(pct.error.message).toMatch(/order % is not open/);
    // HEAD /status, and a doubled slash is still the status route (it used to serve the market page)
    const head = await fetch(`${t.httpUrl}/status`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/json/);
    const dbl = await fetch(`${t.httpUrl}//status`);
    expect(((await dbl.json()) as { chain_id: string }).chain_id).toBe('perpchain-e2e-1');
    // POST /tx: an empty body says what it expects; JSON {"tx": …} is the tx, not its text
    const empty = await fetch(`${t.httpUrl}/tx`, { method: 'POST', body: '' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as Err).error.message).toMatch(/empty body: POST \/tx takes a signed TxRaw/);
    const junk = Buffer.from('not a tx').toString('base64');
    const asJson = (await (await fetch(`${t.httpUrl}/tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx: junk }) })).json()) as { check_tx: { codespace: string; code: number } };
    expect(asJson.check_tx).toMatchObject({ codespace: 'tx', code: 3 }); // decoded as the tx bytes: tx/3 (decode), not a JSON text
    // a body over max_frame_bytes (1 MiB here) is answered 413 before the connection closes (it used to be reset unanswered)
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${t.httpUrl}/tx`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', () => {}); // the server stops reading: our remaining writes may fail after its answer
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      for (let i = 0; i < 40; i++) req.write(chunk); // 2.5 MiB
      req.end();
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'body_too_large' } });
    // and the node still serves
    expect((await fetch(`${t.httpUrl}/status`)).status).toBe(200);
  });
});

describe('per-address message rate (api.max_messages_per_second_per_ip)', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 50, api: { max_messages_per_second: 25, max_messages_per_second_per_ip: 30 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('connections from one address share one budget: within their own limits, together they are refused past it, not disconnected', async () => {
    const a = await Raw.open(t.url);
    const b = await Raw.open(t.url);
    expect(a.msgs[0]!.data.limits.max_messages_per_second_per_ip).toBe(30);
    for (let i = 0; i < 20; i++) a.send({ id: i, method: 'ping' });
    for (let i = 0; i < 20; i++) b.send({ id: 100 + i, method: 'ping' });
    await a.next((m) => m.id === 19);
    await b.next((m) => m.id === 119);
    const refused = [...a.msgs, ...b.msgs].filter((m) => m.error?.code === 'rate_limited');
    expect(refused.length).toBeGreaterThanOrEqual(5); // 40 sent, 30 allowed (give or take the refill while sending)
    expect(refused[0]!.error.message).toMatch(/at most 30 messages\/s from one address/);
    expect(a.closed).toBeUndefined();
    expect(b.closed).toBeUndefined();
    await sleep(1100);
    expect((await a.call('ping')).result.pong).toBe(true);
    a.close();
    b.close();
  });
});
