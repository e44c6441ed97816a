/**
 * The API's view of committed state, rebuilt in the App's onCommit listener
 * (which runs synchronously inside commit(), between blocks): order books
 * (full, per market), markets, trades, candles, risk figures, watched
 * accounts and recent tx results. Every snapshot the server hands out is
 * taken from here, at `height`; every delta is the difference between two
 * consecutive committed heights. That is what makes "snapshot at H, deltas
 * from H+1, nothing missed or repeated" hold however blocks and
 * subscriptions interleave, in devnet and ABCI mode alike.
 *
 * Read side only: it calls App.query, keeper read methods and reads the
 * committed block; it never writes state and nothing here feeds back into
 * consensus.
 */
import type { AbciEvent, CommittedBlock, QueryResult } from '../types.js';
import { bookChecksum, CHECKSUM_DEPTH, type WireLevel } from '../../client/checksum.js';
import type {
  AccountUpdateData,
  BlockJson,
  BookDeltaData,
  CandleJson,
  MarketJson,
  OrderJson,
  RiskJson,
  SubaccountJson,
  TradeJson,
  TxInclusion,
  WireEvent,
} from '../../client/protocol.js';
import { CANDLE_INTERVALS, type CandleInterval } from '../../client/protocol.js';

/**
 * Depths an `orderbook:<market>:<depth>` channel may be cut to (levels a side). Each is a channel of its own,
 * diffed every block; none is below the checksum's 25 levels, so a cut's checksum is the full book's.
 */
export const BOOK_DEPTHS: readonly number[] = [25, 100, 500];

/** The engine's read interface (modules/clob/engine OrderBookEngine). */
export interface EngineLike {
  forEachLevel(side: 'buy' | 'sell', cb: (price: number, totalQuantity: number, orderCount: number) => boolean | void): void;
  /** Changes whenever the book may have changed (OrderBookEngine.version); without it the book is read every block. */
  readonly version?: number;
}

/** What the API needs of the App: committed-state queries, the commit hook, the clob engines. */
export interface ApiApp {
  readonly height: bigint;
  readonly appHash: Uint8Array;
  readonly chainId: string;
  query(req: { path: string; data: Uint8Array; height: bigint; prove: boolean }): QueryResult;
  onCommit(listener: (b: CommittedBlock) => void): () => void;
  /** State sync replaced the committed state without a Commit (App.onRestore); absent on apps that never restore. */
  onRestore?(listener: (height: bigint) => void): () => void;
  readonly keepers: { clob: { engine(marketId: number): EngineLike | undefined } };
}

export class QueryError extends Error {
  constructor(
    readonly chainCode: string,
    message: string,
  ) {
    super(message);
  }
}

export const INTERVAL_SECONDS: Record<CandleInterval, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14_400, '1d': 86_400 };

const MAX_TRADES = 200;
const MAX_CANDLES = 300;
const RECENT_TX_BLOCKS = 2_000;
const RECENT_TX_MAX = 200_000;
const CLIENT_ORDER_BLOCKS = 10_000;
const CLIENT_ORDER_MAX = 500_000;

interface BookState {
  /** Best first. */
  bids: WireLevel[];
  asks: WireLevel[];
  checksum: number;
  /** The engine read, and its version then: the same engine at the same version holds the same book. */
  engine?: EngineLike;
  version?: number;
}

export interface ClientOrderRecord {
  order_id: string;
  placed_height: number;
  market_id: number;
  side: string;
  closed_reason?: string;
}

/** Everything that changed in one committed block, ready to fan out. */
export interface BlockUpdate {
  height: number;
  /** performance.now() when the listener ran (delivery-delay measurements). */
  committedAt: number;
  block: BlockJson;
  markets: MarketJson[];
  books: Map<number, BookDeltaData>;
  /** Per market, per depth of BOOK_DEPTHS: the delta of the book cut to that many levels a side. */
  bookCuts: Map<number, Map<number, BookDeltaData>>;
  trades: Map<number, TradeJson[]>;
  /** key: `${marketId}|${interval}` */
  candles: Map<string, CandleJson[]>;
  risk: RiskJson;
  accounts: Map<string, AccountUpdateData>;
  txs: Array<[string, TxInclusion]>;
}

function attrs(e: AbciEvent): Record<string, string> {
  const o: Record<string, string> = {};
  for (const a of e.attributes) o[a.key] = a.value;
  return o;
}

function isoOf(timeNs: bigint): string {
  return new Date(Number(timeNs / 1_000_000n)).toISOString();
}

export class Feed {
  height = 0;
  block: BlockJson | null = null;
  readonly markets = new Map<number, MarketJson>();
  private readonly marketText = new Map<number, string>();
  readonly tickers = new Map<string, number>();
  private readonly books = new Map<number, BookState>();
  private readonly trades = new Map<number, TradeJson[]>();
  private readonly candles = new Map<string, CandleJson[]>();
  risk: RiskJson = { insurance_fund: '0', bad_debt: '0', pool_balance: '0', liquidation_events: {}, liquidations_total: 0, adl_total: 0, block_liquidation_events: 0 };
  private readonly recentTx = new Map<string, TxInclusion>();
  private readonly recentTxByHeight: Array<{ height: number; hashes: string[] }> = [];
  private readonly clientOrders = new Map<string, ClientOrderRecord>();
  private readonly clientOrdersByHeight: Array<{ height: number; keys: string[] }> = [];
  /** Addresses with an account subscription, and whether they hold positions (refreshed on price moves). */
  private readonly watched = new Map<string, { hasPositions: boolean; numbers: number[] }>();

  constructor(private readonly app: ApiApp) {}

  // ------------------------------------------------------------ queries

  /** JSON of a module query on the latest committed state; throws QueryError. */
  query<T = unknown>(path: string): T {
    const r = this.app.query({ path, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) throw new QueryError(`${r.codespace}/${r.code}`, r.log);
    return JSON.parse(Buffer.from(r.value).toString('utf8')) as T;
  }

  /**
   * A query as API clients ask it (WebSocket `query`, HTTP GET /query/…):
   * module queries answer JSON; `store/<key>` answers the raw value in
   * base64 (empty when the key is absent), the key decoded once from its
   * percent-encoding like every module argument; throws QueryError.
   */
  clientQuery(path: string): unknown {
    const p = path.replace(/^\/+/, '');
    if (p.startsWith('store/')) {
      let key: string;
      try {
        key = decodeURIComponent(p.slice('store/'.length));
      } catch {
        throw new QueryError('api/query', `query path "${p.slice(0, 200)}" is not valid percent-encoding`);
      }
      const r = this.app.query({ path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: false });
      if (r.code !== 0) throw new QueryError(`${r.codespace}/${r.code}`, r.log);
      return { height: r.height.toString(), key, value_base64: Buffer.from(r.value).toString('base64') };
    }
    if (p.startsWith('p2p/')) throw new QueryError('api/query', 'p2p/… paths are CometBFT\'s peer filter, answered over ABCI only');
    return this.query(p);
  }

  private tryQuery<T>(path: string, fallback: T): T {
    try {
      return this.query<T>(path);
    } catch {
      return fallback;
    }
  }

  // ------------------------------------------------------------ state

  /** Build the initial state from what is committed now (server start, and after state sync restored the node). */
  init(): void {
    this.height = Number(this.app.height);
    this.block = this.height > 0 ? { height: this.height, time: null, time_ns: null, tx_count: 0, failed_tx_count: 0, app_hash: hex(this.app.appHash) } : null;
    this.refreshMarkets();
    for (const id of this.markets.keys()) this.books.set(id, this.readBook(id));
    this.risk = { ...this.risk, ...this.poolFigures() };
  }

  marketId(ref: string): number | undefined {
    if (/^[0-9]+$/.test(ref)) {
      const id = Number(ref);
      return this.markets.has(id) ? id : undefined;
    }
    return this.tickers.get(ref.toUpperCase());
  }

  bookSnapshot(id: number, depth = Number.POSITIVE_INFINITY): { bids: WireLevel[]; asks: WireLevel[]; checksum: number } {
    const b = this.books.get(id) ?? { bids: [], asks: [], checksum: bookChecksum([], []) };
    if (depth >= b.bids.length && depth >= b.asks.length) return { bids: b.bids, asks: b.asks, checksum: b.checksum };
    // The checksum is of what the client gets: a cut below the checksum's 25 levels changes it.
    const bids = b.bids.slice(0, depth);
    const asks = b.asks.slice(0, depth);
    return { bids, asks, checksum: depth >= CHECKSUM_DEPTH ? b.checksum : bookChecksum(bids, asks) };
  }

  recentTrades(id: number): TradeJson[] {
    return this.trades.get(id) ?? [];
  }

  candleSeries(id: number, interval: CandleInterval): CandleJson[] {
    return this.candles.get(`${id}|${interval}`) ?? [];
  }

  txResult(hash: string): TxInclusion | undefined {
    return this.recentTx.get(hash.toUpperCase());
  }

  clientOrder(owner: string, number: number, clientId: number): ClientOrderRecord | undefined {
    return this.clientOrders.get(`${owner}/${number}/${clientId}`);
  }

  /** Account snapshot: every subaccount with margin figures and every open order. */
  accountSnapshot(address: string): { subaccounts: SubaccountJson[]; open_orders: OrderJson[] } {
    const subaccounts = this.tryQuery<SubaccountJson[]>(`subaccounts/owner/${address}`, []);
    const numbers = new Set<number>([0, ...subaccounts.map((s) => s.number)]);
    const open_orders: OrderJson[] = [];
    for (const n of [...numbers].sort((a, b) => a - b)) open_orders.push(...this.tryQuery<OrderJson[]>(`clob/orders/${address}/${n}`, []));
    const w = this.watched.get(address);
    if (w) {
      w.hasPositions = subaccounts.some((s) => s.positions.length > 0);
      w.numbers = [...numbers];
    }
    return { subaccounts, open_orders };
  }

  watch(address: string): void {
    if (!this.watched.has(address)) this.watched.set(address, { hasPositions: true, numbers: [0] });
  }

  unwatch(address: string): void {
    this.watched.delete(address);
  }

  // ------------------------------------------------------------ per block

  /** Called inside App.commit(): compute everything that block changed. Must stay cheap and must not throw. */
  onCommit(b: CommittedBlock): BlockUpdate {
    const committedAt = performance.now();
    const height = Number(b.height);
    const timeSec = Number(b.timeNs / 1_000_000_000n);
    const time = isoOf(b.timeNs);
    const failed = b.txResults.filter((r) => r.code !== 0).length;
    const block: BlockJson = { height, time, time_ns: b.timeNs.toString(), tx_count: b.txs.length, failed_tx_count: failed, app_hash: hex(b.appHash) };

    // events in execution order: begin-block, txs, end-block
    const ordered: WireEvent[] = [];
    const begin: AbciEvent[] = [];
    const end: AbciEvent[] = [];
    for (const e of b.events) (e.attributes.some((a) => a.key === 'mode' && a.value === 'BeginBlock') ? begin : end).push(e);
    for (const e of begin) ordered.push({ type: e.type, attributes: attrs(e), tx_hash: null });
    b.txResults.forEach((r, i) => {
      for (const e of r.events) ordered.push({ type: e.type, attributes: attrs(e), tx_hash: b.txHashes[i] ?? null });
    });
    for (const e of end) ordered.push({ type: e.type, attributes: attrs(e), tx_hash: null });

    // markets (new markets get a book before the diff below)
    const markets = this.refreshMarkets();

    // books: full diff of every market against the previous height
    const books = new Map<number, BookDeltaData>();
    const bookCuts = new Map<number, Map<number, BookDeltaData>>();
    for (const id of this.markets.keys()) {
      const prev = this.books.get(id) ?? { bids: [], asks: [], checksum: bookChecksum([], []) };
      const next = this.readBook(id, prev);
      this.books.set(id, next);
      const delta = { bids: diffSide(prev.bids, next.bids, true), asks: diffSide(prev.asks, next.asks, false), checksum: next.checksum };
      books.set(id, delta);
      // a cut's delta: its changed levels, plus levels entering or leaving the cut as others come and go
      const cuts = new Map<number, BookDeltaData>();
      const unchanged = delta.bids.length === 0 && delta.asks.length === 0;
      for (const d of BOOK_DEPTHS) {
        cuts.set(
          d,
          unchanged
            ? delta
            : { bids: diffSide(prev.bids.slice(0, d), next.bids.slice(0, d), true), asks: diffSide(prev.asks.slice(0, d), next.asks.slice(0, d), false), checksum: next.checksum },
        );
      }
      bookCuts.set(id, cuts);
    }

    // trades and candles, events-driven
    const trades = new Map<number, TradeJson[]>();
    const candles = new Map<string, CandleJson[]>();
    let liquidationEvents = 0;
    let pricesMoved = false;
    for (const e of ordered) {
      if (e.type === 'clob.fill') {
        const a = e.attributes;
        const id = Number(a.market_id);
        const t: TradeJson = {
          height,
          time,
          market_id: id,
          price: a.price ?? '0',
          size: a.size ?? '0',
          taker_side: a.taker_side === 'sell' ? 'sell' : 'buy',
          taker_order_id: a.taker_order_id ?? '0',
          maker_order_id: a.maker_order_id ?? '0',
          liquidation: a.liquidation === 'true',
        };
        push(trades, id, t);
        const list = this.trades.get(id) ?? [];
        list.push(t);
        if (list.length > MAX_TRADES) list.splice(0, list.length - MAX_TRADES);
        this.trades.set(id, list);
        for (const iv of CANDLE_INTERVALS) {
          const c = this.addToCandle(id, iv, timeSec, BigInt(t.price), BigInt(t.size));
          const key = `${id}|${iv}`;
          const changed = candles.get(key) ?? [];
          if (changed[changed.length - 1]?.t !== c.t) changed.push(c);
          candles.set(key, changed);
        }
      } else if (e.type.startsWith('liquidation.')) {
        liquidationEvents++;
        this.risk.liquidation_events[e.type] = (this.risk.liquidation_events[e.type] ?? 0) + 1;
        this.risk.liquidations_total++;
        if ('counterparty_owner' in e.attributes || /adl|deleverag/i.test(e.type)) this.risk.adl_total++;
      } else if (e.type === 'prices.update' || e.type === 'perpetuals.funding') {
        pricesMoved = true;
      } else if (e.type === 'clob.order_placed') {
        const a = e.attributes;
        const key = `${a.owner}/${a.number}/${a.client_id}`;
        this.clientOrders.set(key, { order_id: a.order_id ?? '0', placed_height: height, market_id: Number(a.market_id ?? 0), side: a.side ?? '' });
        this.trackClientOrder(height, key);
      } else if (e.type === 'clob.order_cancelled') {
        const a = e.attributes;
        const rec = this.clientOrders.get(`${a.owner}/${a.number}/${a.client_id}`);
        if (rec && rec.order_id === a.order_id) rec.closed_reason = a.reason ?? 'cancelled';
      }
    }
    this.risk = { ...this.risk, ...this.poolFigures(), block_liquidation_events: liquidationEvents };

    // accounts: events naming a watched address, then fresh views of the touched ones
    const accounts = new Map<string, AccountUpdateData>();
    if (this.watched.size > 0) {
      for (const e of ordered) {
        const seen = new Set<string>();
        for (const v of Object.values(e.attributes)) {
          if (!this.watched.has(v) || seen.has(v)) continue;
          seen.add(v);
          let u = accounts.get(v);
          if (!u) accounts.set(v, (u = { events: [], fills: [], funding_payments: [], liquidations: [] }));
          u.events.push(e);
          if (e.type === 'clob.fill') u.fills.push(e);
          else if (e.type === 'subaccounts.funding') u.funding_payments.push(e);
          else if (e.type.startsWith('liquidation.')) u.liquidations.push(e);
        }
      }
      for (const [address, w] of this.watched) {
        const touched = accounts.has(address);
        if (!touched && !(pricesMoved && w.hasPositions)) continue;
        let u = accounts.get(address);
        if (!u) accounts.set(address, (u = { events: [], fills: [], funding_payments: [], liquidations: [] }));
        if (u.events.some((e) => e.type.startsWith('subaccounts.'))) {
          // deposits and transfers may open a subaccount: look at all of them
          const snap = this.accountSnapshot(address);
          u.subaccounts = snap.subaccounts;
          u.open_orders = snap.open_orders;
          continue;
        }
        // otherwise only the subaccounts already known can have changed
        const subs = w.numbers.map((n) => this.tryQuery<SubaccountJson | undefined>(`subaccounts/subaccount/${address}/${n}`, undefined)).filter((x): x is SubaccountJson => !!x && (x.collateral !== '0' || x.positions.length > 0));
        u.subaccounts = subs;
        w.hasPositions = subs.some((x) => x.positions.length > 0);
        if (touched) u.open_orders = w.numbers.flatMap((n) => this.tryQuery<OrderJson[]>(`clob/orders/${address}/${n}`, []));
      }
    }

    // tx results
    const txs: Array<[string, TxInclusion]> = [];
    const hashes: string[] = [];
    b.txResults.forEach((r, i) => {
      const hash = b.txHashes[i]!;
      const inc: TxInclusion = {
        hash,
        status: 'included',
        height,
        code: r.code,
        codespace: r.codespace,
        log: r.log,
        gas_wanted: r.gasWanted.toString(),
        gas_used: r.gasUsed.toString(),
        events: r.events.map((e) => ({ type: e.type, attributes: attrs(e) })),
        data: Buffer.from(r.data).toString('base64'),
      };
      this.recentTx.set(hash, inc);
      hashes.push(hash);
      txs.push([hash, inc]);
    });
    this.recentTxByHeight.push({ height, hashes });
    while (this.recentTxByHeight.length > RECENT_TX_BLOCKS || (this.recentTx.size > RECENT_TX_MAX && this.recentTxByHeight.length > 1)) {
      for (const h of this.recentTxByHeight.shift()!.hashes) this.recentTx.delete(h);
    }

    this.height = height;
    this.block = block;
    // candles are live objects the next block's fills change: the update carries copies, as of this height
    // (the server sends it later, at fan-out, possibly after the next block committed)
    for (const [key, list] of candles) candles.set(key, list.map((c) => ({ ...c })));
    return { height, committedAt, block, markets, books, bookCuts, trades, candles, risk: { ...this.risk, liquidation_events: { ...this.risk.liquidation_events } }, accounts, txs };
  }

  private trackClientOrder(height: number, key: string): void {
    const last = this.clientOrdersByHeight[this.clientOrdersByHeight.length - 1];
    if (last?.height === height) last.keys.push(key);
    else this.clientOrdersByHeight.push({ height, keys: [key] });
    while (
      this.clientOrdersByHeight.length > 1 &&
      (this.clientOrdersByHeight[0]!.height < height - CLIENT_ORDER_BLOCKS || this.clientOrders.size > CLIENT_ORDER_MAX)
    ) {
      const old = this.clientOrdersByHeight.shift()!;
      for (const k of old.keys) if (this.clientOrders.get(k)?.placed_height === old.height) this.clientOrders.delete(k);
    }
  }

  private addToCandle(id: number, iv: CandleInterval, timeSec: number, price: bigint, size: bigint): CandleJson {
    const key = `${id}|${iv}`;
    const series = this.candles.get(key) ?? [];
    this.candles.set(key, series);
    const start = Math.floor(timeSec / INTERVAL_SECONDS[iv]) * INTERVAL_SECONDS[iv];
    let c = series[series.length - 1];
    if (!c || c.t !== start) {
      c = { t: start, open: price.toString(), high: price.toString(), low: price.toString(), close: price.toString(), volume: '0', trades: 0 };
      series.push(c);
      if (series.length > MAX_CANDLES) series.shift();
    }
    if (price > BigInt(c.high)) c.high = price.toString();
    if (price < BigInt(c.low)) c.low = price.toString();
    c.close = price.toString();
    c.volume = (BigInt(c.volume) + size).toString();
    c.trades++;
    return c;
  }

  /** The book of market `id`; `prev` itself when its engine has not changed since (a deep, quiet book costs nothing). */
  private readBook(id: number, prev?: BookState): BookState {
    const engine = this.app.keepers.clob.engine(id);
    const version = engine?.version;
    if (prev && engine && version !== undefined && prev.engine === engine && prev.version === version) return prev;
    const bids: WireLevel[] = [];
    const asks: WireLevel[] = [];
    engine?.forEachLevel('buy', (p, q, c) => void bids.push([String(p), String(q), c]));
    engine?.forEachLevel('sell', (p, q, c) => void asks.push([String(p), String(q), c]));
    return { bids, asks, checksum: bookChecksum(bids, asks), engine, version };
  }

  /** Re-read markets and oracle prices; returns the markets whose JSON changed. */
  private refreshMarkets(): MarketJson[] {
    const list = this.tryQuery<Array<Record<string, unknown>>>('perpetuals/markets', []);
    const prices = this.tryQuery<Array<{ market_id: number; price: string; stale: boolean; updated_height: string }>>('prices/prices', []);
    const byId = new Map(prices.map((p) => [p.market_id, p]));
    const changed: MarketJson[] = [];
    for (const m of list) {
      const id = Number(m.id);
      const p = byId.get(id);
      const j = { ...m, oracle_price: p?.price ?? String(m.oracle_price ?? '0'), oracle_stale: p?.stale ?? false, oracle_updated_height: p?.updated_height ?? null } as unknown as MarketJson;
      const text = JSON.stringify(j);
      if (this.marketText.get(id) !== text) {
        this.marketText.set(id, text);
        this.markets.set(id, j);
        this.tickers.set(String(m.ticker).toUpperCase(), id);
        changed.push(j);
      }
    }
    return changed;
  }

  private poolFigures(): Pick<RiskJson, 'insurance_fund' | 'bad_debt' | 'pool_balance'> {
    const p = this.tryQuery<{ insurance_fund?: string; bad_debt?: string; pool_balance?: string }>('subaccounts/pool', {});
    return { insurance_fund: p.insurance_fund ?? '0', bad_debt: p.bad_debt ?? '0', pool_balance: p.pool_balance ?? '0' };
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/**
 * Levels of one side that differ between two best-first lists: new or
 * changed levels with their absolute size, removed levels with size "0".
 * Output best first.
 */
export function diffSide(prev: readonly WireLevel[], next: readonly WireLevel[], bids: boolean): WireLevel[] {
  const out: WireLevel[] = [];
  // both lists are sorted best first by numeric price: merge walk
  let i = 0;
  let j = 0;
  const better = (a: string, b: string) => (bids ? Number(a) > Number(b) : Number(a) < Number(b));
  while (i < prev.length || j < next.length) {
    const p = prev[i];
    const n = next[j];
    if (p && n && p[0] === n[0]) {
      if (p[1] !== n[1] || p[2] !== n[2]) out.push(n);
      i++;
      j++;
    } else if (n && (!p || better(n[0], p[0]))) {
      out.push(n);
      j++;
    } else if (p) {
      out.push([p[0], '0', 0]);
      i++;
    }
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}
