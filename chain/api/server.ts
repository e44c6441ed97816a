/**
 * The node's trader endpoint: JSON over WebSocket, a few plain HTTP routes
 * for curl, and the read-only market page (web/). Protocol and every
 * message: chain/api/README.md.
 *
 * Read side: it reads committed state (App.query, the clob engines through
 * the Feed, committed blocks) and submits txs through a TxSubmitter; it never
 * writes state. It may read clocks (heartbeats, rate limits); nothing in it
 * influences consensus.
 *
 * Flow per block: App.commit() → Feed.onCommit (synchronous: diff books,
 * trades, candles, accounts, tx results at the new height) → the update is
 * queued and fanned out on the next turn of the event loop (setImmediate), so
 * sending to many sockets never delays the chain. A subscription records the
 * height of its snapshot and only receives updates of later heights: a
 * subscribe handled between a commit and its fan-out gets the snapshot at the
 * new height and not that height's delta.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import { z } from 'zod';
import { addressProblem } from '../codec/address.js';
import { BOOK_DEPTHS, Feed, QueryError, type ApiApp, type BlockUpdate } from './feed.js';
import { AddressCounter, CLOSE, DEFAULT_LIMITS, TokenBucket, type ApiLimitsConfig } from './limits.js';
import type { SubmitResult, TxSubmitter } from './submitter.js';
import { CANDLE_INTERVALS, type CandleInterval, type ClientIdRecordJson, type ClientOrderInfo, type OrderJson, type TxInclusion } from '../../client/protocol.js';
import { ErrTxInMempool } from '../errors/tx.js';

export { Feed, type ApiApp } from './feed.js';
export { MempoolSubmitter, CometRpcSubmitter, type TxSubmitter, type SubmitResult } from './submitter.js';
export { DEFAULT_LIMITS, type ApiLimitsConfig } from './limits.js';

export const SERVER_NAME = 'perpchain-api/1';

export interface ApiServerOptions {
  app: ApiApp;
  submitter: TxSubmitter;
  host: string;
  port: number;
  limits?: Partial<ApiLimitsConfig>;
  /** Serve the market page at / (default true). */
  serveWeb?: boolean;
  log?: (line: string) => void;
}

export function txResultJson(r: Pick<SubmitResult, 'code' | 'codespace' | 'log' | 'gasWanted' | 'gasUsed' | 'events'>) {
  return {
    code: r.code,
    codespace: r.codespace,
    log: r.log,
    gas_wanted: r.gasWanted.toString(),
    gas_used: r.gasUsed.toString(),
    events: r.events.map((e) => ({ type: e.type, attributes: Object.fromEntries(e.attributes.map((a) => [a.key, a.value])) })),
  };
}

type ChannelKind = 'markets' | 'blocks' | 'risk' | 'orderbook' | 'trades' | 'candles' | 'account';

interface Channel {
  name: string;
  kind: ChannelKind;
  marketId?: number;
  interval?: CandleInterval;
  address?: string;
  /** orderbook: levels a side (one of BOOK_DEPTHS); none: the whole book. */
  depth?: number;
}

interface Sub {
  channel: Channel;
  /** Height of the snapshot: only updates of later heights are sent. */
  from: number;
}

interface Conn {
  id: number;
  ws: WebSocket;
  ip: string;
  subs: Map<string, Sub>;
  bucket: TokenBucket;
  alive: boolean;
  state: 'open' | 'closing' | 'closed';
}

/** One message for a channel, numbered at commit time (the channel's sequence). */
interface Publication {
  channel: string;
  type: 'delta' | 'update';
  seq: number;
  data: unknown;
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly chainCode?: string,
  ) {
    super(message);
  }
}

const METHODS = ['subscribe', 'unsubscribe', 'submit_tx', 'tx', 'account', 'subaccount', 'subaccounts', 'markets', 'book', 'order', 'orders', 'client_order', 'fills', 'pool', 'status', 'query', 'ping'] as const;
const CHANNEL_FORMS = ['markets', 'blocks', 'risk', 'orderbook:<market>', `orderbook:<market>:<${BOOK_DEPTHS.join('|')}>`, 'trades:<market>', `candles:<market>:<${CANDLE_INTERVALS.join('|')}>`, 'account:<address>'];

const RequestSchema = z.object({
  id: z.union([z.number(), z.string().max(128), z.null()]).optional(),
  method: z.string().max(64),
  params: z.record(z.string(), z.unknown()).optional(),
});
const address = z.string().max(100);
const subNumber = z.number().int().min(0).max(127);
const market = z.union([z.string().max(64), z.number().int().min(0)]);
const P = {
  channel: z.object({ channel: z.string().max(200) }),
  submit: z.object({ tx: z.string().max(16 * 1024 * 1024) }),
  tx: z.object({ hash: z.string().regex(/^[0-9a-fA-F]{64}$/, 'hash must be 64 hex characters'), wait: z.boolean().optional() }),
  address: z.object({ address }),
  subaccount: z.object({ owner: address, number: subNumber.default(0) }),
  owner: z.object({ owner: address }),
  book: z.object({ market, depth: z.number().int().min(1).max(100_000).optional() }),
  order: z.object({ id: z.union([z.string().regex(/^[0-9]{1,20}$/), z.number().int().min(0)]) }),
  clientOrder: z.object({ owner: address, number: subNumber.default(0), client_id: z.number().int().min(0).max(0xffffffff) }),
  fills: z.object({ market, owner: address.optional() }),
  query: z.object({ path: z.string().min(1).max(512) }),
};

const WEB_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export class ApiServer {
  readonly feed: Feed;
  readonly limits: ApiLimitsConfig;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly conns = new Set<Conn>();
  private readonly channels = new Map<string, Set<Conn>>();
  private readonly accountRefs = new Map<string, number>();
  private readonly ips = new AddressCounter();
  private readonly queue: Array<{ u: BlockUpdate; pubs: Publication[] }> = [];
  /** Per channel: the seq of the last message published (0 = none yet). Same numbers for every subscriber. */
  private readonly seqs = new Map<string, number>();
  private flushing = false;
  private readonly waiters = new Map<string, Array<{ conn: Conn; id: number | string | null; deadline: number }>>();
  private readonly deadlines = new Map<number, Set<string>>();
  private offCommit: (() => void) | undefined;
  private offRestore: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private nextConnId = 1;
  private readonly log: (line: string) => void;
  private readonly webDir: string;
  /** Counters for status and tests. */
  readonly counters = { connections: 0, rejectedConnections: 0, slowConsumers: 0, rateLimited: 0, heartbeatDrops: 0, blocks: 0, feedMs: 0, fanOutMs: 0, messagesSent: 0 };
  /** Test/bench hook: called after an update has been handed to every socket. */
  onFanOut: ((u: BlockUpdate) => void) | undefined;

  constructor(private readonly opts: ApiServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.log = opts.log ?? (() => {});
    this.feed = new Feed(opts.app);
    this.feed.init();
    this.webDir = fileURLToPath(new URL('../../web/', import.meta.url));
    this.offCommit = opts.app.onCommit((b) => {
      let u: BlockUpdate;
      try {
        u = this.feed.onCommit(b);
        this.counters.feedMs += performance.now() - u.committedAt;
      } catch (e) {
        // never let the read side break a commit
        this.log(`api: feed failed at height ${b.height}: ${(e as Error).stack ?? e}`);
        return;
      }
      this.queue.push({ u, pubs: this.publications(u) });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
    // `perpchain abci` serves the API before CometBFT state-syncs an empty node: the feed built then is of
    // the empty state, and no Commit follows the restore until the next block
    this.offRestore = opts.app.onRestore?.((h) => {
      try {
        this.feed.init();
      } catch (e) {
        this.log(`api: feed failed to load the state restored at height ${h}: ${(e as Error).stack ?? e}`);
      }
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.http = createServer((req, res) => void this.handleHttp(req, res));
    this.wss = new WebSocketServer({ server: this.http, maxPayload: this.limits.max_frame_bytes * 4, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => this.handleSocket(ws, req));
    this.wss.on('error', (e) => this.log(`api: websocket server error: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.heartbeat = setInterval(() => this.beat(), this.limits.heartbeat_ms);
    this.heartbeat.unref();
    const a = this.http.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    this.offCommit?.();
    this.offCommit = undefined;
    this.offRestore?.();
    this.offRestore = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    this.http?.closeAllConnections?.();
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }

  // ------------------------------------------------------------------ HTTP

  private status() {
    const app = this.opts.app;
    return {
      chain_id: app.chainId,
      height: this.feed.height,
      app_hash: Buffer.from(app.appHash).toString('hex').toUpperCase(),
      mempool_size: this.opts.submitter.mempoolSize?.() ?? null,
      submitter: this.opts.submitter.kind,
    };
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // "//status" would otherwise parse as a URL whose host is "status"
    const url = new URL((req.url ?? '/').replace(/^\/+/, '/'), 'http://localhost');
    const read = req.method === 'GET' || req.method === 'HEAD'; // (Node sends no body for HEAD)
    try {
      if (read && url.pathname === '/status') return send(200, this.status());
      if (read && url.pathname.startsWith('/query/')) {
        try {
          // still percent-encoded: each argument is decoded once, by the query itself
          return send(200, this.feed.clientQuery(url.pathname.slice('/query/'.length)));
        } catch (e) {
          if (e instanceof QueryError) return send(400, { error: { code: 'query_failed', chain_code: e.chainCode, message: e.message } });
          throw e;
        }
      }
      if (req.method === 'POST' && url.pathname === '/tx') {
        const body = await readBody(req, this.limits.max_frame_bytes);
        const tx = txBytesOf(body, req.headers['content-type']);
        let r: Awaited<ReturnType<typeof this.opts.submitter.submit>>;
        try {
          r = await this.opts.submitter.submit(tx);
        } catch (e) {
          // the node could not hand the tx on (CometBFT RPC unreachable): not the client's fault, and no CheckTx ran
          return send(502, { error: { code: 'submit_failed', message: `could not hand the tx to the chain: ${(e as Error).message}` } });
        }
        // "already in the mempool" is an acceptance too: the tx_result follows as for the first submission
        const accepted = r.code === 0 || (r.codespace === ErrTxInMempool.codespace && r.code === ErrTxInMempool.code);
        return send(accepted ? 200 : 400, { hash: r.hash, check_tx: txResultJson(r) });
      }
      const file = WEB_FILES[url.pathname];
      if (req.method === 'GET' && file && this.opts.serveWeb !== false) {
        const path = join(this.webDir, file);
        if (existsSync(path)) {
          res.writeHead(200, { 'content-type': CONTENT_TYPES[file.split('.').pop()!] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
          res.end(readFileSync(path));
          return;
        }
      }
      send(404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}; try GET / (market page), GET /status, GET /query/<path>, POST /tx, or a WebSocket on this port` } });
    } catch (e) {
      if (e instanceof HttpError) {
        // the rest of an oversized body is not read: answer, then close the connection
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
        return send(e.status, { error: { code: e.code, message: e.message } });
      }
      send(400, { error: { code: 'bad_request', message: (e as Error).message } });
    }
  }

  // ------------------------------------------------------------- sockets

  private handleSocket(ws: WebSocket, req: IncomingMessage): void {
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (!this.ips.tryAdd(ip, this.limits.max_connections_per_ip)) {
      this.counters.rejectedConnections++;
      const message = `too many connections from ${ip}: at most ${this.limits.max_connections_per_ip} (api.max_connections_per_ip)`;
      ws.send(JSON.stringify({ type: 'error', error: { code: 'too_many_connections', message } }));
      ws.close(CLOSE.tooManyConnections, 'too many connections from your address');
      setTimeout(() => ws.terminate(), this.limits.slow_consumer_grace_ms).unref();
      return;
    }
    const conn: Conn = { id: this.nextConnId++, ws, ip, subs: new Map(), bucket: new TokenBucket(this.limits.max_messages_per_second, performance.now()), alive: true, state: 'open' };
    this.conns.add(conn);
    this.counters.connections++;
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      this.handleFrame(conn, data as Buffer, isBinary);
    });
    ws.on('error', (e) => this.log(`api: connection ${conn.id} (${ip}): ${e.message}`));
    ws.on('close', () => this.dropConn(conn));
    this.sendJson(conn, {
      type: 'welcome',
      data: {
        server: SERVER_NAME,
        chain_id: this.opts.app.chainId,
        height: this.feed.height,
        limits: {
          max_frame_bytes: this.limits.max_frame_bytes,
          max_subscriptions: this.limits.max_subscriptions,
          max_connections_per_ip: this.limits.max_connections_per_ip,
          max_messages_per_second: this.limits.max_messages_per_second,
          max_messages_per_second_per_ip: this.limits.max_messages_per_second_per_ip,
          heartbeat_ms: this.limits.heartbeat_ms,
          max_buffered_bytes: this.limits.max_buffered_bytes,
        },
        channels: CHANNEL_FORMS,
        methods: [...METHODS],
      },
    });
  }

  private dropConn(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn);
    this.ips.remove(conn.ip);
    // An address's budget outlives its last connection until it has refilled (swept at each heartbeat):
    // forgetting it at once let a client close everything and reconnect to a full budget, again and again.
    if (this.ips.count(conn.ip) === 0 && this.ipBuckets.get(conn.ip)?.isFull(performance.now())) this.ipBuckets.delete(conn.ip);
    for (const name of [...conn.subs.keys()]) this.removeSub(conn, name);
  }

  private beat(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        this.counters.heartbeatDrops++;
        this.log(`api: connection ${c.id} (${c.ip}) did not answer the last ping within ${this.limits.heartbeat_ms} ms; dropped`);
        c.ws.terminate();
        this.dropConn(c);
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        /* closing */
      }
    }
    const now = performance.now();
    for (const [ip, b] of this.ipBuckets) if (this.ips.count(ip) === 0 && b.isFull(now)) this.ipBuckets.delete(ip);
  }

  /** Send with backpressure: past max_buffered_bytes the peer is told why and disconnected. */
  private sendText(c: Conn, text: string): boolean {
    if (c.state !== 'open' || c.ws.readyState !== WebSocket.OPEN) return false;
    const queued = c.ws.bufferedAmount;
    if (queued + text.length > this.limits.max_buffered_bytes) {
      this.slowConsumer(c, queued);
      return false;
    }
    c.ws.send(text);
    return true;
  }

  /** A pre-encoded text frame (shared by many connections). */
  private sendFrame(c: Conn, frame: Buffer): boolean {
    if (c.state !== 'open' || c.ws.readyState !== WebSocket.OPEN) return false;
    const queued = c.ws.bufferedAmount;
    if (queued + frame.length > this.limits.max_buffered_bytes) {
      this.slowConsumer(c, queued);
      return false;
    }
    // one pre-built text frame for all subscribers, written straight to the socket
    // (safe: per-message deflate is off, so ws's sender never queues; order is kept)
    const sock = (c.ws as unknown as { _socket?: { write(b: Buffer): boolean; writable?: boolean } })._socket;
    if (sock?.writable) sock.write(frame);
    else c.ws.send(frame.subarray(frameHeaderLength(frame.length)), { binary: false });
    return true;
  }

  private sendJson(c: Conn, body: unknown): boolean {
    return this.sendText(c, JSON.stringify(body));
  }

  private slowConsumer(c: Conn, queued: number): void {
    c.state = 'closing';
    this.counters.slowConsumers++;
    const message = `slow consumer: ${queued} bytes already queued for this connection and the next message would pass api.max_buffered_bytes (${this.limits.max_buffered_bytes}); read faster or subscribe to less. Disconnecting.`;
    this.log(`api: connection ${c.id} (${c.ip}): ${message}`);
    c.ws.send(JSON.stringify({ type: 'error', error: { code: 'slow_consumer', message } }));
    c.ws.close(CLOSE.slowConsumer, 'slow consumer: send buffer over api.max_buffered_bytes');
    setTimeout(() => {
      c.ws.terminate();
      this.dropConn(c);
    }, this.limits.slow_consumer_grace_ms).unref();
  }

  private reply(c: Conn, id: number | string | null, result: unknown): void {
    this.sendJson(c, { id, result });
  }

  private replyError(c: Conn, id: number | string | null, e: ApiError): void {
    this.sendJson(c, { id, error: { code: e.code, message: e.message, ...(e.chainCode ? { chain_code: e.chainCode } : {}) } });
  }

  /** Message-rate buckets per remote address (dropped with the address's last connection). */
  private readonly ipBuckets = new Map<string, TokenBucket>();

  private ipBucket(ip: string): TokenBucket {
    let b = this.ipBuckets.get(ip);
    if (!b) this.ipBuckets.set(ip, (b = new TokenBucket(this.limits.max_messages_per_second_per_ip, performance.now())));
    return b;
  }

  private handleFrame(c: Conn, data: Buffer, isBinary: boolean): void {
    if (c.state !== 'open') return;
    const now = performance.now();
    const verdict = c.bucket.take(now);
    if (verdict === 'ok' && this.ipBucket(c.ip).take(now) !== 'ok') {
      // the address as a whole is over its rate: refuse (no disconnect: this connection may be a quiet one)
      this.counters.rateLimited++;
      const id = data.length < 4096 && !isBinary ? peekId(data) : null;
      return this.replyError(c, id, new ApiError('rate_limited', `rate limit: at most ${this.limits.max_messages_per_second_per_ip} messages/s from one address, all its connections together (api.max_messages_per_second_per_ip); this message was not processed`));
    }
    if (verdict !== 'ok') {
      this.counters.rateLimited++;
      const id = data.length < 4096 && !isBinary ? peekId(data) : null;
      if (verdict === 'flood') {
        const message = `rate limit: more than ${this.limits.max_messages_per_second} messages/s (api.max_messages_per_second) and still flooding after refusals; disconnecting`;
        this.sendJson(c, { type: 'error', error: { code: 'rate_limited', message } });
        c.state = 'closing';
        c.ws.close(CLOSE.rateLimited, 'rate limit exceeded repeatedly');
        setTimeout(() => c.ws.terminate(), this.limits.slow_consumer_grace_ms).unref();
        return;
      }
      return this.replyError(c, id, new ApiError('rate_limited', `rate limit: at most ${this.limits.max_messages_per_second} messages/s per connection (api.max_messages_per_second); this message was not processed`));
    }
    if (isBinary) return this.replyError(c, null, new ApiError('bad_request', 'binary frames are not supported; send JSON text frames'));
    if (data.length > this.limits.max_frame_bytes) {
      return this.replyError(c, peekId(data.subarray(0, 200)), new ApiError('frame_too_large', `frame of ${data.length} bytes is larger than api.max_frame_bytes (${this.limits.max_frame_bytes}); it was not processed (frames over ${this.limits.max_frame_bytes * 4} bytes close the connection)`));
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch (e) {
      return this.replyError(c, null, new ApiError('bad_json', `message is not valid JSON: ${(e as Error).message}`));
    }
    const parsed = RequestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw !== null && 'id' in raw && (typeof raw.id === 'number' || typeof raw.id === 'string') ? raw.id : null;
      return this.replyError(c, id, new ApiError('bad_request', `expected {"id": number|string, "method": string, "params"?: object}: ${issues(parsed.error)}`));
    }
    const { method, params = {} } = parsed.data;
    const id = parsed.data.id ?? null;
    void this.dispatch(c, id, method, params).catch((e: unknown) => {
      if (e instanceof ApiError) return this.replyError(c, id, e);
      if (e instanceof QueryError) return this.replyError(c, id, new ApiError('query_failed', e.message, e.chainCode));
      if (e instanceof z.ZodError) return this.replyError(c, id, new ApiError('bad_params', `bad params for ${method}: ${issues(e)}`));
      this.log(`api: ${method} failed: ${(e as Error).stack ?? e}`);
      this.replyError(c, id, new ApiError('internal', `internal error: ${(e as Error).message}`));
    });
  }

  private async dispatch(c: Conn, id: number | string | null, method: string, params: Record<string, unknown>): Promise<void> {
    const f = this.feed;
    switch (method) {
      case 'subscribe':
        return this.subscribe(c, id, P.channel.parse(params).channel);
      case 'unsubscribe': {
        const ch = this.parseChannel(P.channel.parse(params).channel);
        if (!c.subs.has(ch.name)) throw new ApiError('not_subscribed', `not subscribed to ${ch.name}`);
        this.removeSub(c, ch.name);
        return this.reply(c, id, { channel: ch.name, subscribed: false });
      }
      case 'submit_tx':
        return this.submitTx(c, id, P.submit.parse(params).tx);
      case 'tx': {
        const { hash, wait } = P.tx.parse(params);
        const h = hash.toUpperCase();
        const known = f.txResult(h);
        if (known) return this.reply(c, id, known);
        const pending = this.opts.submitter.pending?.(h) ?? false;
        this.reply(c, id, { hash: h, status: pending ? 'pending' : 'unknown' } satisfies TxInclusion);
        if (wait) this.addWaiter(h, c, id);
        return;
      }
      case 'account': {
        const { address: a } = P.address.parse(params);
        checkAddress(a);
        return this.reply(c, id, f.query(`auth/account/${a}`));
      }
      case 'subaccount': {
        const { owner, number } = P.subaccount.parse(params);
        checkAddress(owner);
        return this.reply(c, id, f.query(`subaccounts/subaccount/${owner}/${number}`));
      }
      case 'subaccounts': {
        const { owner } = P.owner.parse(params);
        checkAddress(owner);
        return this.reply(c, id, f.query(`subaccounts/owner/${owner}`));
      }
      case 'markets':
        return this.reply(c, id, { height: f.height, markets: [...f.markets.values()] });
      case 'book': {
        const { market: m, depth } = P.book.parse(params);
        const mid = this.market(String(m));
        return this.reply(c, id, { height: f.height, market_id: mid, ticker: f.markets.get(mid)!.ticker, ...f.bookSnapshot(mid, depth) });
      }
      case 'order':
        return this.reply(c, id, f.query(`clob/order/${P.order.parse(params).id}`));
      case 'orders': {
        const { owner, number } = P.subaccount.parse({ ...params, owner: params.owner });
        checkAddress(owner);
        return this.reply(c, id, f.query(`clob/orders/${owner}/${number}`));
      }
      case 'client_order':
        return this.reply(c, id, this.clientOrder(P.clientOrder.parse(params)));
      case 'fills': {
        const { market: m, owner } = P.fills.parse(params);
        const mid = this.market(String(m));
        const all = f.query<Array<{ taker: string; maker: string }>>(`clob/fills/${mid}`);
        return this.reply(c, id, owner ? all.filter((x) => x.taker.startsWith(`${owner}/`) || x.maker.startsWith(`${owner}/`)) : all);
      }
      case 'pool':
        return this.reply(c, id, f.query('subaccounts/pool'));
      case 'status':
        return this.reply(c, id, this.status());
      case 'query':
        return this.reply(c, id, f.clientQuery(P.query.parse(params).path));
      case 'ping':
        return this.reply(c, id, { pong: true, height: f.height, time: Date.now() });
      default:
        throw new ApiError('unknown_method', `unknown method ${JSON.stringify(method)}; methods: ${METHODS.join(', ')}`);
    }
  }

  /**
   * Which order holds a client id. The chain's client-id record (kept while the order is open and for
   * client_id_retention_blocks after) is the authority and survives restarts; this node's memory of the
   * blocks since it started adds why a closed order closed, and ids already released.
   */
  private clientOrder(p: { owner: string; number: number; client_id: number }): ClientOrderInfo {
    checkAddress(p.owner);
    const mem = this.feed.clientOrder(p.owner, p.number, p.client_id);
    let rec: ClientIdRecordJson | undefined;
    try {
      rec = this.feed.query<ClientIdRecordJson>(`clob/client_id/${p.owner}/${p.number}/${p.client_id}`);
    } catch (e) {
      if (!(e instanceof QueryError) || e.chainCode !== 'clob/7') throw e; // clob/7 order_not_found: the id is free
    }
    const open = (oid: string): OrderJson | undefined => {
      try {
        return this.feed.query<OrderJson>(`clob/order/${oid}`);
      } catch {
        return undefined;
      }
    };
    if (rec) {
      const o = rec.open ? open(rec.order_id) : undefined;
      const seen = mem?.order_id === rec.order_id ? mem : undefined;
      const reason = seen?.closed_reason;
      // a record written before records kept market, side and height: from the open order or this node's memory
      const side = rec.side ?? o?.side ?? sideOf(seen?.side);
      const market = rec.market_id ?? o?.market_id ?? seen?.market_id;
      return {
        order_id: rec.order_id,
        placed_height: Number(rec.placed_height ?? o?.placed_height ?? seen?.placed_height ?? 0),
        open: !!o,
        ...(side !== undefined && market !== undefined ? { market_id: market, side } : {}),
        ...(rec.open ? {} : { release_height: Number(rec.release_height) }),
        ...(o ? { order: o } : {}),
        ...(reason ? { closed_reason: reason } : {}),
      };
    }
    if (mem) {
      // placed since this node started and released since (retention passed): the id is free again
      const side = sideOf(mem.side);
      return { order_id: mem.order_id, placed_height: mem.placed_height, open: false, ...(side ? { market_id: mem.market_id, side } : {}), released: true, ...(mem.closed_reason ? { closed_reason: mem.closed_reason } : {}) };
    }
    throw new ApiError('not_found', `client id ${p.client_id} of ${p.owner}/${p.number} is free: no open order holds it, and none closed within client_id_retention_blocks or since this node started`);
  }

  private market(ref: string): number {
    const id = this.feed.marketId(ref);
    if (id === undefined) {
      const known = [...this.feed.markets.values()].map((m) => m.ticker).join(', ') || '(none yet)';
      throw new ApiError('unknown_market', `unknown market "${ref}"; markets: ${known}`);
    }
    return id;
  }

  // -------------------------------------------------------- subscriptions

  private parseChannel(name: string): Channel {
    const parts = name.split(':');
    const kind = parts[0] as ChannelKind;
    const bad = () => new ApiError('unknown_channel', `unknown channel "${name}"; channels: ${CHANNEL_FORMS.join(', ')}`);
    switch (kind) {
      case 'markets':
      case 'blocks':
      case 'risk':
        if (parts.length !== 1) throw bad();
        return { name: kind, kind };
      case 'orderbook': {
        if (parts.length !== 2 && parts.length !== 3) throw bad();
        const id = this.market(parts[1]!);
        const name = `orderbook:${this.feed.markets.get(id)!.ticker}`;
        if (parts.length === 2) return { name, kind, marketId: id };
        const depth = Number(parts[2]);
        if (!/^[0-9]+$/.test(parts[2]!) || !BOOK_DEPTHS.includes(depth)) {
          throw new ApiError('unknown_channel', `unknown book depth "${parts[2]}"; depths: ${BOOK_DEPTHS.join(', ')} (levels a side), or none for the whole book`);
        }
        return { name: `${name}:${depth}`, kind, marketId: id, depth };
      }
      case 'trades': {
        if (parts.length !== 2) throw bad();
        const id = this.market(parts[1]!);
        return { name: `${kind}:${this.feed.markets.get(id)!.ticker}`, kind, marketId: id };
      }
      case 'candles': {
        if (parts.length !== 3) throw bad();
        const id = this.market(parts[1]!);
        const iv = parts[2] as CandleInterval;
        if (!CANDLE_INTERVALS.includes(iv)) throw new ApiError('unknown_channel', `unknown candle interval "${parts[2]}"; intervals: ${CANDLE_INTERVALS.join(', ')}`);
        return { name: `candles:${this.feed.markets.get(id)!.ticker}:${iv}`, kind, marketId: id, interval: iv };
      }
      case 'account': {
        if (parts.length !== 2) throw bad();
        checkAddress(parts[1]!);
        return { name: `account:${parts[1]}`, kind, address: parts[1]! };
      }
      default:
        throw bad();
    }
  }

  private subscribe(c: Conn, id: number | string | null, name: string): void {
    const ch = this.parseChannel(name);
    if (c.subs.has(ch.name)) throw new ApiError('already_subscribed', `already subscribed to ${ch.name}; unsubscribe first to get a fresh snapshot`);
    if (c.subs.size >= this.limits.max_subscriptions) {
      throw new ApiError('too_many_subscriptions', `at most ${this.limits.max_subscriptions} subscriptions per connection (api.max_subscriptions); unsubscribe from something first`);
    }
    const sub: Sub = { channel: ch, from: this.feed.height };
    if (ch.address) {
      this.accountRefs.set(ch.address, (this.accountRefs.get(ch.address) ?? 0) + 1);
      this.feed.watch(ch.address);
    }
    c.subs.set(ch.name, sub);
    let set = this.channels.get(ch.name);
    if (!set) this.channels.set(ch.name, (set = new Set()));
    set.add(c);
    this.reply(c, id, { channel: ch.name, subscribed: true, height: sub.from });
    this.sendChannel(c, sub, 'snapshot', sub.from, JSON.stringify(this.snapshot(ch)));
  }

  private removeSub(c: Conn, name: string): void {
    const sub = c.subs.get(name);
    if (!sub) return;
    c.subs.delete(name);
    const set = this.channels.get(name);
    set?.delete(c);
    if (set && set.size === 0) this.channels.delete(name);
    const a = sub.channel.address;
    if (a) {
      const n = (this.accountRefs.get(a) ?? 1) - 1;
      if (n <= 0) {
        this.accountRefs.delete(a);
        this.feed.unwatch(a);
      } else this.accountRefs.set(a, n);
    }
  }

  private snapshot(ch: Channel): unknown {
    const f = this.feed;
    switch (ch.kind) {
      case 'markets':
        return { markets: [...f.markets.values()] };
      case 'blocks':
        return f.block;
      case 'risk':
        return f.risk;
      case 'orderbook':
        return { market_id: ch.marketId!, ticker: f.markets.get(ch.marketId!)!.ticker, ...(ch.depth ? { depth: ch.depth } : {}), ...f.bookSnapshot(ch.marketId!, ch.depth) };
      case 'trades':
        return { trades: f.recentTrades(ch.marketId!).slice(-100) };
      case 'candles':
        return { interval: ch.interval!, candles: f.candleSeries(ch.marketId!, ch.interval!) };
      case 'account':
        return { address: ch.address!, ...f.accountSnapshot(ch.address!) };
    }
  }

  private sendChannel(c: Conn, sub: Sub, type: string, height: number, body: string): void {
    const seq = this.seqs.get(sub.channel.name) ?? 0;
    this.sendText(c, `{"channel":${JSON.stringify(sub.channel.name)},"type":"${type}","seq":${seq},"height":${height},"data":${body}}`);
  }

  /**
   * Number the messages of one committed block, per channel, inside the
   * commit listener: so a snapshot taken after this commit carries the seq
   * of the last message it already contains, whatever the fan-out's timing.
   */
  private publications(u: BlockUpdate): Publication[] {
    const out: Publication[] = [];
    const pub = (channel: string, type: 'delta' | 'update', data: unknown) => {
      const seq = (this.seqs.get(channel) ?? 0) + 1;
      this.seqs.set(channel, seq);
      out.push({ channel, type, seq, data });
    };
    for (const [id, delta] of u.books) {
      const m = this.feed.markets.get(id);
      if (m) pub(`orderbook:${m.ticker}`, 'delta', delta);
    }
    for (const [id, cuts] of u.bookCuts) {
      const m = this.feed.markets.get(id);
      if (m) for (const [depth, delta] of cuts) pub(`orderbook:${m.ticker}:${depth}`, 'delta', delta);
    }
    pub('blocks', 'update', u.block);
    pub('risk', 'update', u.risk);
    if (u.markets.length) pub('markets', 'update', { markets: u.markets });
    for (const [id, trades] of u.trades) {
      const m = this.feed.markets.get(id);
      if (m) pub(`trades:${m.ticker}`, 'update', { trades });
    }
    for (const [key, candles] of u.candles) {
      const [id, iv] = key.split('|');
      const m = this.feed.markets.get(Number(id));
      if (m) pub(`candles:${m.ticker}:${iv}`, 'update', { interval: iv, candles });
    }
    for (const [addr, data] of u.accounts) pub(`account:${addr}`, 'update', data);
    return out;
  }

  /** Send one publication to every subscriber whose snapshot is older than it: encoded once, the same bytes for all. */
  private fanOut(p: Publication, height: number): void {
    const set = this.channels.get(p.channel);
    if (!set || set.size === 0) return;
    const frame = textFrame(`{"channel":${JSON.stringify(p.channel)},"type":"${p.type}","seq":${p.seq},"height":${height},"data":${JSON.stringify(p.data)}}`);
    for (const c of set) {
      const sub = c.subs.get(p.channel);
      if (!sub || sub.from >= height) continue;
      this.sendFrame(c, frame);
      this.counters.messagesSent++;
    }
  }

  private flush(): void {
    this.flushing = false;
    while (this.queue.length) {
      const { u, pubs } = this.queue.shift()!;
      this.counters.blocks++;
      const h = u.height;
      // tx results first: the latency traders care most about
      for (const [hash, inc] of u.txs) this.resolveWaiters(hash, inc);
      const due = this.deadlines.get(h);
      if (due) {
        this.deadlines.delete(h);
        for (const hash of due) this.timeoutWaiters(hash, h);
      }
      const t0 = performance.now();
      for (const p of pubs) this.fanOut(p, h);
      this.counters.fanOutMs += performance.now() - t0;
      this.onFanOut?.(u);
    }
  }

  // -------------------------------------------------------------- txs

  private async submitTx(c: Conn, id: number | string | null, b64: string): Promise<void> {
    if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw new ApiError('bad_params', 'params.tx must be the TxRaw bytes in standard base64 (A–Z a–z 0–9 + /, padded with =)');
    }
    const bytes = Buffer.from(b64, 'base64');
    let r: SubmitResult;
    try {
      r = await this.opts.submitter.submit(bytes);
    } catch (e) {
      throw new ApiError('submit_failed', `could not hand the tx to the chain: ${(e as Error).message}`);
    }
    this.reply(c, id, { hash: r.hash, check_tx: txResultJson(r) });
    if (r.code === 0 || (r.codespace === 'tx' && r.code === 26)) this.addWaiter(r.hash, c, id);
  }

  /**
   * Push the tx's result to this request when it lands, is dropped from the mempool (recheck) or times
   * out. The first waiter of a hash also listens for the drop: whether the tx came through this
   * connection's submit_tx, another's, or POST /tx, a `tx` with `wait` hears "dropped" at once.
   */
  private addWaiter(hash: string, conn: Conn, id: number | string | null): void {
    const deadline = this.feed.height + this.limits.inclusion_timeout_blocks;
    if (!this.waiters.has(hash)) {
      this.opts.submitter.onDropped?.(hash, (reason) => {
        const list = this.waiters.get(hash);
        if (!list) return;
        this.waiters.delete(hash);
        for (const w of list) this.sendJson(w.conn, { type: 'tx_result', id: w.id, result: { hash, status: 'dropped', reason } satisfies TxInclusion });
      });
    }
    const list = this.waiters.get(hash) ?? [];
    list.push({ conn, id, deadline });
    this.waiters.set(hash, list);
    let d = this.deadlines.get(deadline);
    if (!d) this.deadlines.set(deadline, (d = new Set()));
    d.add(hash);
  }

  private resolveWaiters(hash: string, inc: TxInclusion): void {
    const list = this.waiters.get(hash);
    if (!list) return;
    this.waiters.delete(hash);
    for (const w of list) this.sendJson(w.conn, { type: 'tx_result', id: w.id, result: inc });
  }

  private timeoutWaiters(hash: string, height: number): void {
    const list = this.waiters.get(hash);
    if (!list) return;
    const keep = list.filter((w) => w.deadline > height);
    for (const w of list) {
      if (w.deadline > height) continue;
      const reason = `not included within ${this.limits.inclusion_timeout_blocks} blocks (api.inclusion_timeout_blocks); it may still be included later: ask with {"method":"tx","params":{"hash":"${hash}","wait":true}}`;
      this.sendJson(w.conn, { type: 'tx_result', id: w.id, result: { hash, status: 'timeout', reason } satisfies TxInclusion });
    }
    if (keep.length) this.waiters.set(hash, keep);
    else this.waiters.delete(hash);
  }
}

/** A complete unmasked RFC 6455 text frame (FIN, opcode 1) around a UTF-8 payload. */
export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81;
  if (n < 126) out[1] = n;
  else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, head);
  return out;
}

/** Header length of a frame built by textFrame, from its total length. */
function frameHeaderLength(total: number): number {
  return total - 2 < 126 ? 2 : total - 4 < 65_536 ? 4 : 10;
}

function checkAddress(a: string): void {
  const p = addressProblem(a);
  if (p) throw new ApiError('bad_params', `invalid address: ${p}`);
}

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
}

/** The "id" of a frame we will not process, to echo it in the error (best effort). */
function peekId(data: Buffer): number | string | null {
  const m = /"id"\s*:\s*(-?[0-9]{1,15}|"[^"\\]{0,128}")/.exec(data.toString('utf8'));
  if (!m) return null;
  return m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : Number(m[1]);
}

/** An HTTP answer other than 400 bad_request. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * POST /tx's body: the tx bytes raw, or in base64, or JSON {"tx": "<base64>"}
 * (what the WebSocket submit_tx takes).
 */
function txBytesOf(body: Buffer, contentType: string | undefined): Buffer {
  const text = body.toString('utf8').trim();
  if (body.length === 0 || text.length === 0) throw new Error('empty body: POST /tx takes a signed TxRaw, as raw bytes, base64, or JSON {"tx": "<base64>"}');
  if (contentType?.startsWith('application/json') || text.startsWith('{')) {
    let tx: unknown;
    try {
      tx = (JSON.parse(text) as { tx?: unknown }).tx;
    } catch (e) {
      throw new Error(`JSON body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof tx !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(tx)) throw new Error('JSON body must be {"tx": "<base64 TxRaw>"}');
    return Buffer.from(tx, 'base64');
  }
  return /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : body;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        // stop reading; the caller answers 413 and then closes the connection
        req.off('data', onData);
        req.pause();
        reject(new HttpError(413, 'body_too_large', `body larger than ${limit} bytes (api.max_frame_bytes)`));
      } else chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** An event's side attribute as the API's type. */
function sideOf(s: string | undefined): 'buy' | 'sell' | undefined {
  return s === 'buy' || s === 'sell' ? s : undefined;
}
