/**
 * PerpchainClient: typed queries, subscriptions, tx submission and
 * self-healing local order books over one PerpchainConnection.
 */
import { BookIntegrityError, LocalOrderBook } from './book.js';
import { PerpchainConnection, type ConnectionOptions } from './connection.js';
import { marketSpec, type MarketSpec } from './units.js';
export type { ClientOrderInfo } from './protocol.js';
import type {
  AccountJson,
  BookDeltaData,
  BookSnapshotData,
  ChannelMessage,
  ClientOrderInfo,
  MarketJson,
  OrderJson,
  StatusJson,
  SubaccountJson,
  TxInclusion,
  WireLevel,
} from './protocol.js';

export interface RecentFillJson {
  height: string;
  market_id: number;
  price: string;
  size: string;
  taker_side: string;
  taker_order_id: string;
  maker_order_id: string;
  taker: string;
  maker: string;
  liquidation: boolean;
}

export class PerpchainClient {
  readonly conn: PerpchainConnection;
  private readonly specs = new Map<string, MarketSpec>();

  constructor(opts: ConnectionOptions | string) {
    this.conn = new PerpchainConnection(typeof opts === 'string' ? { url: opts } : opts);
  }

  /** Connect (resolves at the server's welcome). */
  static async connect(opts: ConnectionOptions | string): Promise<PerpchainClient> {
    const c = new PerpchainClient(opts);
    await c.conn.connect();
    void c.chainId; // remember it
    return c;
  }

  /** The chain id learnt from the first welcome: kept while the connection is down (a reconnect clears the welcome). */
  private knownChainId = '';

  /** The node's chain id ('' before the first welcome). */
  get chainId(): string {
    const id = this.conn.welcome?.chain_id;
    if (id) this.knownChainId = id;
    return this.knownChainId;
  }

  /** The chain id, waiting for a connection if none was ever made. */
  async chainIdReady(timeoutMs?: number): Promise<string> {
    if (!this.chainId) await this.conn.whenOpen(timeoutMs);
    const id = this.chainId;
    if (!id) throw new Error('the node sent no chain id in its welcome');
    return id;
  }

  close(): void {
    this.conn.close();
  }

  private q<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.conn.request<T>(method, params, { idempotent: true });
  }

  // -------------------------------------------------------------- queries

  status(): Promise<StatusJson> {
    return this.q('status');
  }

  async markets(): Promise<MarketJson[]> {
    const r = await this.q<{ height: number; markets: MarketJson[] }>('markets');
    for (const m of r.markets) {
      const s = marketSpec(m);
      this.specs.set(m.ticker.toUpperCase(), s);
      this.specs.set(String(m.id), s);
    }
    return r.markets;
  }

  /** Tick, step, exponents of a market by ticker or id (cached after the first call). */
  async market(ref: string | number): Promise<MarketSpec> {
    const key = String(ref).toUpperCase();
    let s = this.specs.get(key);
    if (!s) {
      await this.markets();
      s = this.specs.get(key);
    }
    if (!s) throw new Error(`unknown market ${ref}; markets: ${[...new Set([...this.specs.values()].map((x) => x.ticker))].join(', ')}`);
    return s;
  }

  /** Account number and sequence for signing. */
  account(address: string): Promise<AccountJson> {
    return this.q('account', { address });
  }

  subaccount(owner: string, number = 0): Promise<SubaccountJson> {
    return this.q('subaccount', { owner, number });
  }

  subaccounts(owner: string): Promise<SubaccountJson[]> {
    return this.q('subaccounts', { owner });
  }

  book(market: string | number, depth?: number): Promise<{ height: number; market_id: number; ticker: string; bids: WireLevel[]; asks: WireLevel[]; checksum: number }> {
    return this.q('book', { market, ...(depth ? { depth } : {}) });
  }

  order(id: bigint | string): Promise<OrderJson> {
    return this.q('order', { id: id.toString() });
  }

  orders(owner: string, number = 0): Promise<OrderJson[]> {
    return this.q('orders', { owner, number });
  }

  clientOrder(owner: string, number: number, clientId: number): Promise<ClientOrderInfo> {
    return this.q('client_order', { owner, number, client_id: clientId });
  }

  fills(market: string | number, owner?: string): Promise<RecentFillJson[]> {
    return this.q('fills', { market, ...(owner ? { owner } : {}) });
  }

  pool(): Promise<{ insurance_fund: string; bad_debt: string; pool_balance: string; [k: string]: unknown }> {
    return this.q('pool');
  }

  /** Any module query path, e.g. "perpetuals/markets". */
  query<T = unknown>(path: string): Promise<T> {
    return this.q('query', { path });
  }

  // ------------------------------------------------------------------ txs

  submitTx(tx: Uint8Array) {
    return this.conn.submitTx(tx);
  }

  waitTx(hash: string): Promise<TxInclusion> {
    return this.conn.waitTx(hash);
  }

  // -------------------------------------------------------- subscriptions

  /** Subscribe to any channel; the handler also gets the new snapshot after a reconnect. Returns an unsubscribe function. */
  async subscribe<T = unknown>(channel: string, handler: (m: ChannelMessage<T>) => void): Promise<() => Promise<void>> {
    const name = await this.conn.subscribe(channel, handler as (m: ChannelMessage) => void);
    return () => this.conn.unsubscribe(name);
  }

  /**
   * A local order book kept equal to the node's: verified on every delta, resynced by itself on a gap or mismatch.
   * `depth` (25, 100 or 500) keeps only that many levels a side, best first: a smaller snapshot and deltas for a
   * deep book; without it, the whole book.
   */
  async orderBook(market: string | number, options: { depth?: number } = {}): Promise<ManagedOrderBook> {
    const spec = await this.market(market);
    const mb = new ManagedOrderBook(this.conn, spec, options.depth);
    await mb.start();
    return mb;
  }
}

type BookEvent = 'update' | 'resync' | 'error';

export class ManagedOrderBook {
  readonly book: LocalOrderBook;
  readonly channel: string;
  /** Resyncs so far (gaps, mismatches); reconnect snapshots are not counted. */
  resyncs = 0;
  /** Why the last resync happened. */
  lastResync: BookIntegrityError | undefined;
  private resyncing = false;
  private readonly listeners: Record<BookEvent, Array<(arg?: unknown) => void>> = { update: [], resync: [], error: [] };
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly conn: PerpchainConnection,
    readonly spec: MarketSpec,
    /** Levels a side the node cuts the book to (undefined: the whole book). */
    readonly depth?: number,
  ) {
    this.book = new LocalOrderBook(spec.ticker);
    this.channel = depth === undefined ? `orderbook:${spec.ticker}` : `orderbook:${spec.ticker}:${depth}`;
  }

  on(event: 'update', fn: (book: LocalOrderBook) => void): () => void;
  on(event: 'resync', fn: (why: BookIntegrityError) => void): () => void;
  on(event: 'error', fn: (e: Error) => void): () => void;
  on(event: BookEvent, fn: (arg: never) => void): () => void {
    const list = this.listeners[event];
    const f = fn as (arg?: unknown) => void;
    list.push(f);
    return () => {
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private emit(event: BookEvent, arg?: unknown): void {
    for (const f of [...this.listeners[event]]) f(arg);
  }

  async start(): Promise<void> {
    const ready = this.ready();
    await this.conn.subscribe(this.channel, (m) => this.onMessage(m));
    // A book without a live subscription is not the node's book: not ready until the reconnect's snapshot,
    // and an error for good when the connection gives up.
    this.conn.on('close', () => (this.book.ready = false));
    this.conn.on('error', (e) => this.emit('error', e));
    await ready;
  }

  /** Resolves when the book holds a verified snapshot (now or after a resync). */
  ready(): Promise<void> {
    if (this.book.ready && !this.resyncing) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  private onMessage(m: ChannelMessage): void {
    try {
      if (m.type === 'snapshot') {
        this.resyncing = false;
        this.book.applySnapshot(m as ChannelMessage<BookSnapshotData>);
        for (const r of this.readyWaiters.splice(0)) r();
      } else if (m.type === 'delta') {
        if (this.resyncing || !this.book.ready) return; // waiting for the fresh snapshot
        this.book.applyDelta(m as ChannelMessage<BookDeltaData>);
      }
      this.emit('update', this.book);
    } catch (e) {
      if (!(e instanceof BookIntegrityError)) return this.emit('error', e);
      this.resyncs++;
      this.lastResync = e;
      this.resyncing = true;
      this.emit('resync', e);
      this.conn.resubscribe(this.channel).catch((err: Error) => this.emit('error', err));
    }
  }

  async close(): Promise<void> {
    await this.conn.unsubscribe(this.channel);
  }
}
