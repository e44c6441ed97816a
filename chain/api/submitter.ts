/**
 * How the API hands a signed tx to the chain. The server depends only on
 * this interface, so the same server runs in both modes:
 *
 *  - devnet (`perpchain start`): MempoolSubmitter puts the tx in the node's
 *    own mempool (CheckTx on the App right away);
 *  - ABCI mode (`perpchain abci`): CometRpcSubmitter forwards it to
 *    CometBFT's JSON-RPC `broadcast_tx_sync`, which runs CheckTx through the
 *    ABCI mempool connection and answers with its result.
 *
 * In both modes the inclusion result (height, code, log, events, data) is
 * taken from the committed blocks the App itself sees (App.onCommit), never
 * from the submitter, so it is the same everywhere.
 */
import { createHash } from 'node:crypto';
import type { ErrorDef } from '../errors/index.js';
import { ErrMempoolFull, ErrTxInMempool, ErrTxTooLarge } from '../errors/tx.js';

export interface SubmitResult {
  /** Upper-case hex sha256 of the tx bytes (CometBFT's tx hash). */
  hash: string;
  code: number;
  codespace: string;
  log: string;
  gasWanted: bigint;
  gasUsed: bigint;
  events: Array<{ type: string; attributes: Array<{ key: string; value: string; index?: boolean }> }>;
}

export interface TxSubmitter {
  /** Short name for status output ("devnet-mempool", "cometbft-rpc"). */
  readonly kind: string;
  /** Run CheckTx and, when it passes, queue the tx for a block. Rejects only on transport failure. */
  submit(tx: Uint8Array): Promise<SubmitResult>;
  /** Optional: be told when an accepted tx leaves the mempool without being included (failed recheck, eviction). */
  onDropped?(hash: string, listener: (reason: string) => void): void;
  /** Optional: is the tx waiting in the mempool? */
  pending?(hash: string): boolean;
  /** Optional: number of txs in the mempool. */
  mempoolSize?(): number | null;
}

export function txHashHex(tx: Uint8Array): string {
  return createHash('sha256').update(tx).digest('hex').toUpperCase();
}

/** What the devnet mempool offers (chain/devnet/mempool.ts). */
export interface MempoolLike {
  readonly size: number;
  add(bytes: Uint8Array): SubmitResult;
  /** CheckTx a batch in order, its signatures verified in parallel first (worker threads). */
  addBatch?(txs: Uint8Array[]): Promise<SubmitResult[]>;
  onInclusion(hash: string, listener: (r: { hash: string; dropped: string } | { hash: string; height: bigint }) => void): void;
  has?(hash: string): boolean;
}

/**
 * Devnet: the node's own mempool. Submissions that arrive in the same turn of
 * the event loop (a burst from many clients) go to the mempool as one batch:
 * their signatures are verified on the worker threads in parallel, and the
 * main thread stays free meanwhile (for blocks, other clients) instead of
 * verifying each on arrival. CheckTx then runs in arrival order, batch after
 * batch, so a sender's consecutive sequences are checked in the order sent.
 */
export class MempoolSubmitter implements TxSubmitter {
  readonly kind = 'devnet-mempool';
  private readonly inMempool = new Set<string>();
  private queue: Array<{ tx: Uint8Array; done: (r: SubmitResult) => void; fail: (e: unknown) => void }> = [];
  /** The batch being checked: the next one waits for it (arrival order across batches). */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly mempool: MempoolLike) {}

  submit(tx: Uint8Array): Promise<SubmitResult> {
    if (!this.mempool.addBatch) return Promise.resolve(this.accepted(this.mempool.add(tx)));
    return new Promise((done, fail) => {
      this.queue.push({ tx, done, fail });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.running = this.running.then(async () => {
      try {
        const results = await this.mempool.addBatch!(batch.map((b) => b.tx));
        batch.forEach((b, i) => b.done(this.accepted(results[i]!)));
      } catch (e) {
        for (const b of batch) b.fail(e);
      }
    });
  }

  private accepted(r: SubmitResult): SubmitResult {
    if (r.code === 0 && !this.inMempool.has(r.hash)) {
      this.inMempool.add(r.hash);
      this.mempool.onInclusion(r.hash, () => this.inMempool.delete(r.hash));
    }
    return r;
  }

  onDropped(hash: string, listener: (reason: string) => void): void {
    this.mempool.onInclusion(hash, (r) => {
      if ('dropped' in r) listener(r.dropped);
    });
  }

  pending(hash: string): boolean {
    return this.inMempool.has(hash);
  }

  mempoolSize(): number {
    return this.mempool.size;
  }
}

export interface CometRpcOptions {
  /** CometBFT RPC base URL, e.g. http://127.0.0.1:26657 */
  url: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * CometBFT's mempool refusals (mempool/errors.go, v0.38) as our registered tx errors: already seen (tx/26, an
 * acceptance for the API: its result follows), full or still rechecking (tx/25: try again), over its
 * max_tx_bytes or the pre-check (tx/2). Undefined for anything else.
 */
export function mempoolRefusal(msg: string, hash: string): { code: number; codespace: string; log: string } | undefined {
  const as = (e: ErrorDef, detail: string) => ({ code: e.code, codespace: e.codespace, log: e(detail).message });
  if (/already exists in cache/i.test(msg)) return as(ErrTxInMempool, `CometBFT has seen tx ${hash} (${msg})`);
  if (/mempool is full|still rechecking/i.test(msg)) return as(ErrMempoolFull, `CometBFT answered "${msg}"; submit it again later`);
  if (/tx too large|tx pre check/i.test(msg)) return as(ErrTxTooLarge, `CometBFT answered "${msg}"`);
  return undefined;
}

/**
 * ABCI mode: CometBFT's JSON-RPC `broadcast_tx_sync` (returns after CheckTx).
 * Answer shape: {"jsonrpc":"2.0","id":…,"result":{"code":0,"data":"","log":"","codespace":"","hash":"…"}}.
 */
export class CometRpcSubmitter implements TxSubmitter {
  readonly kind = 'cometbft-rpc';
  private nextId = 1;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: CometRpcOptions) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  async submit(tx: Uint8Array): Promise<SubmitResult> {
    const hash = txHashHex(tx);
    const body = JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx).toString('base64') } });
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.opts.timeoutMs ?? 10_000);
    let json: { result?: { code?: number; codespace?: string; log?: string; hash?: string }; error?: { code?: number; message?: string; data?: string } };
    try {
      const res = await this.fetchFn(this.opts.url.replace(/\/+$/, '') + '/', { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: ctl.signal });
      json = (await res.json()) as typeof json;
    } catch (e) {
      throw new Error(`CometBFT RPC ${this.opts.url} unreachable: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (json.error) {
      // CometBFT's mempool answers these before (or instead of) CheckTx as RPC errors; they get the codes the
      // devnet's own mempool gives the same refusals. Anything else is not a verdict on the tx: the submission failed.
      const msg = `${json.error.message ?? 'rpc error'}${json.error.data ? `: ${json.error.data}` : ''}`;
      const refusal = mempoolRefusal(msg, hash);
      if (refusal) return { hash, code: refusal.code, codespace: refusal.codespace, log: refusal.log, gasWanted: 0n, gasUsed: 0n, events: [] };
      throw new Error(`CometBFT RPC ${this.opts.url} refused broadcast_tx_sync: ${msg}`);
    }
    const r = json.result ?? {};
    return { hash: (r.hash ?? hash).toUpperCase(), code: r.code ?? 0, codespace: r.codespace ?? '', log: r.log ?? '', gasWanted: 0n, gasUsed: 0n, events: [] };
  }

  mempoolSize(): null {
    return null;
  }
}
