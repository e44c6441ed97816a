import type { App } from '../app.js';
import type { CheckTxResult, ExecTxResult } from '../types.js';
import { txHash } from '../tx/decode.js';
import { ErrMempoolFull, ErrTxInMempool } from '../errors/tx.js';

export interface MempoolOptions {
  maxTxs: number;
  maxBytes: number;
}

export const DEFAULT_MEMPOOL: MempoolOptions = { maxTxs: 50_000, maxBytes: 64 * 1024 * 1024 };

interface Entry {
  hash: string;
  bytes: Uint8Array;
  gasWanted: bigint;
  sender: string;
}

export type InclusionListener = (r: { hash: string; height: bigint; result: ExecTxResult } | { hash: string; dropped: string }) => void;

/**
 * The devnet's mempool: CheckTx on entry, FIFO order (which keeps each
 * sender's sequences in order), removal of included txs and a recheck of the
 * rest after every commit, as CometBFT's mempool does.
 */
export class Mempool {
  private entries: Entry[] = [];
  private readonly byHash = new Map<string, Entry>();
  private bytes = 0;
  private readonly waiters = new Map<string, InclusionListener[]>();

  constructor(
    private readonly app: App,
    private readonly opts: MempoolOptions = DEFAULT_MEMPOOL,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  add(bytes: Uint8Array): CheckTxResult & { hash: string } {
    const hash = txHash(bytes);
    if (this.byHash.has(hash)) return { ...rejection(ErrTxInMempool(hash)), hash };
    if (this.entries.length >= this.opts.maxTxs || this.bytes + bytes.length > this.opts.maxBytes) {
      return { ...rejection(ErrMempoolFull(`${this.entries.length} txs, ${this.bytes} bytes`)), hash };
    }
    const r = this.app.checkTx({ tx: bytes, type: 'new' });
    if (r.code === 0) {
      const e: Entry = { hash, bytes, gasWanted: r.gasWanted, sender: r.sender ?? '' };
      this.entries.push(e);
      this.byHash.set(hash, e);
      this.bytes += bytes.length;
    }
    // r is ours (a fresh result): adding the field beats `{ ...r, hash }`, which takes V8's slow path for new properties
    return Object.assign(r, { hash });
  }

  /** Add many at once, verifying their signatures in parallel first. */
  async addBatch(txs: Uint8Array[]): Promise<Array<CheckTxResult & { hash: string }>> {
    await this.app.prefetchSignatures(txs);
    return txs.map((t) => this.add(t));
  }

  /** Wait for a tx to be included (or dropped). */
  onInclusion(hash: string, listener: InclusionListener): void {
    const list = this.waiters.get(hash) ?? [];
    list.push(listener);
    this.waiters.set(hash, list);
  }

  /** Txs for the next block, FIFO, within byte and gas limits. */
  reap(maxBytes: number, maxGas: bigint): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bytes = 0;
    let gas = 0n;
    for (const e of this.entries) {
      if (bytes + e.bytes.length > maxBytes) break;
      if (maxGas > 0n && gas + e.gasWanted > maxGas) break;
      bytes += e.bytes.length;
      gas += e.gasWanted;
      out.push(e.bytes);
    }
    return out;
  }

  /** After Commit: drop included txs (telling their waiters), recheck the rest. */
  update(height: bigint, hashes: string[], results: ExecTxResult[]): void {
    hashes.forEach((hash, i) => {
      const e = this.byHash.get(hash);
      if (e) this.remove(e);
      this.notify(hash, { hash, height, result: results[i]! });
    });
    this.entries = this.entries.filter((e) => this.byHash.has(e.hash));
    const keep: Entry[] = [];
    for (const e of this.entries) {
      const r = this.app.checkTx({ tx: e.bytes, type: 'recheck' });
      if (r.code === 0) keep.push(e);
      else {
        this.byHash.delete(e.hash);
        this.bytes -= e.bytes.length;
        this.notify(e.hash, { hash: e.hash, dropped: `failed recheck: ${r.log}` });
      }
    }
    this.entries = keep;
  }

  private remove(e: Entry): void {
    this.byHash.delete(e.hash);
    this.bytes -= e.bytes.length;
  }

  private notify(hash: string, r: Parameters<InclusionListener>[0]): void {
    const list = this.waiters.get(hash);
    if (!list) return;
    this.waiters.delete(hash);
    for (const l of list) l(r);
  }
}

function rejection(e: { code: number; codespace: string; message: string }): CheckTxResult {
  return { code: e.code, codespace: e.codespace, log: e.message, data: new Uint8Array(), gasWanted: 0n, gasUsed: 0n, events: [] };
}
