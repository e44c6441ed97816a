/**
 * A stand-in for the App as the API sees it (chain/api/feed.ts ApiApp): the
 * test sets the committed state by hand — module query answers by path, the
 * clob book levels per market — and commits blocks made of the events it
 * wants. It lets feed and server rules be tested block by block, with exact
 * block times, thousands of blocks, and events (liquidations, self-trades,
 * deposits) that are slow or hard to provoke through a real chain.
 */
import type { ApiApp, EngineLike } from '../../chain/api/feed.js';
import type { AbciEvent, CommittedBlock, ExecTxResult, QueryResult } from '../../chain/types.js';

export type Levels = Array<[price: number, size: number, count: number]>;

/** An ABCI event from plain attributes. */
export function ev(type: string, attributes: Record<string, string>): AbciEvent {
  return { type, attributes: Object.entries(attributes).map(([key, value]) => ({ key, value, index: false })) };
}

/** A clob.fill event as the clob module emits it (only the attributes the feed reads). */
export function fill(o: { market?: number; price: number | bigint; size: number | bigint; taker_side?: 'buy' | 'sell'; taker_owner?: string; maker_owner?: string }): AbciEvent {
  return ev('clob.fill', {
    market_id: String(o.market ?? 0),
    price: String(o.price),
    size: String(o.size),
    taker_side: o.taker_side ?? 'buy',
    taker_order_id: '2',
    maker_order_id: '1',
    taker_owner: o.taker_owner ?? 'perp1taker',
    taker_number: '0',
    maker_owner: o.maker_owner ?? 'perp1maker',
    maker_number: '0',
    liquidation: 'false',
  });
}

export function txResult(events: AbciEvent[], code = 0): ExecTxResult {
  return { code, codespace: code ? 'x' : '', log: '', data: new Uint8Array(), gasWanted: 0n, gasUsed: 0n, events };
}

export const BTC = { id: 0, ticker: 'BTC-USD' };
export const ETH = { id: 1, ticker: 'ETH-USD' };

export class FakeApp implements ApiApp {
  height = 0n;
  appHash = new Uint8Array(32);
  readonly chainId = 'fake-1';
  /** Module query answers by path (JSON-serialised on the way out); a missing path is a failed query. */
  readonly answers = new Map<string, unknown>();
  /** Book levels per market, best first. */
  readonly books = new Map<number, { bids: Levels; asks: Levels }>();
  private readonly listeners: Array<(b: CommittedBlock) => void> = [];
  /** Seconds since the epoch of the next block (advances 1 s per block unless set). */
  timeSec = 1_800_000_000;

  constructor(markets: Array<{ id: number; ticker: string }> = [BTC, ETH]) {
    this.answers.set('perpetuals/markets', markets);
    this.answers.set('prices/prices', []);
    this.answers.set('subaccounts/pool', { insurance_fund: '0', bad_debt: '0', pool_balance: '0' });
  }

  query(req: { path: string }): QueryResult {
    const a = this.answers.get(req.path);
    if (a === undefined) return { code: 4, codespace: 'query', log: `no answer for ${req.path}`, key: new Uint8Array(), value: new Uint8Array(), height: this.height };
    return { code: 0, codespace: '', log: '', key: new Uint8Array(), value: Buffer.from(JSON.stringify(a)), height: this.height };
  }

  onCommit(listener: (b: CommittedBlock) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  readonly keepers = {
    clob: {
      engine: (id: number): EngineLike | undefined => {
        const b = this.books.get(id);
        if (!b) return undefined;
        return {
          forEachLevel: (side, cb) => {
            for (const [p, q, c] of side === 'buy' ? b.bids : b.asks) if (cb(p, q, c) === false) return;
          },
        };
      },
    },
  };

  /** Commit one block: `events` are begin/end-block events, `txs` the results of the block's txs. */
  commit(o: { events?: AbciEvent[]; txs?: ExecTxResult[]; hashes?: string[]; timeSec?: number } = {}): CommittedBlock {
    this.height++;
    const t = o.timeSec ?? this.timeSec++;
    const txs = o.txs ?? [];
    const b: CommittedBlock = {
      height: this.height,
      timeNs: BigInt(t) * 1_000_000_000n,
      appHash: this.appHash,
      txs: txs.map(() => new Uint8Array()),
      txHashes: o.hashes ?? txs.map((_, i) => `${this.height.toString(16).padStart(8, '0')}${String(i).padStart(56, '0')}`.toUpperCase()),
      txResults: txs,
      events: o.events ?? [],
    };
    for (const l of this.listeners) l(b);
    return b;
  }
}
