/**
 * What agents see: each market's oracle price after every committed block
 * (from the chain's `prices.update` events), its recent history, the
 * reference price the feeders will report next, and a scheduler that wakes
 * agents at a block or when the oracle crosses a price they care about.
 */
import type { MarketSpec } from './market.js';

export class MarketView {
  /** Oracle price after the last committed block (price units). */
  oracle: bigint;
  /** The external (reference) price of the block being built: what honest feeders report and what makers watch. */
  reference: bigint;
  /** Oracle history, one entry per committed block (ring buffer). */
  private readonly hist: Float64Array;
  private n = 0;
  private readonly refHist: Float64Array;
  private rn = 0;

  constructor(
    readonly spec: MarketSpec,
    initial: bigint,
    historyLength = 4096,
  ) {
    this.oracle = initial;
    this.reference = initial;
    this.hist = new Float64Array(historyLength);
    this.refHist = new Float64Array(historyLength);
    this.push(initial);
  }

  /** Set the reference price of the block being built (once per block). */
  setReference(price: bigint): void {
    this.reference = price;
    this.refHist[this.rn % this.refHist.length] = Number(price);
    this.rn++;
  }

  get referenceNum(): number {
    return Number(this.reference);
  }

  /** Largest absolute move of the reference price over the last k blocks, in ppm (float). */
  maxReferenceMovePpm(k: number): number {
    if (this.rn === 0) return 0;
    const len = this.refHist.length;
    const now = this.refHist[(this.rn - 1) % len]!;
    let m = 0;
    const kk = Math.min(k, this.rn - 1, len - 1);
    for (let i = 1; i <= kk; i++) {
      const then = this.refHist[(this.rn - 1 - i) % len]!;
      const d = Math.abs(now - then) / then;
      if (d > m) m = d;
    }
    return m * 1_000_000;
  }

  get oracleNum(): number {
    return Number(this.oracle);
  }

  /** Record the oracle after a block (called once per block). */
  push(price: bigint): void {
    this.oracle = price;
    this.hist[this.n % this.hist.length] = Number(price);
    this.n++;
  }

  /** Oracle k blocks ago (clamped to the oldest kept). */
  ago(k: number): number {
    const kk = Math.min(k, this.n - 1, this.hist.length - 1);
    return this.hist[(this.n - 1 - kk) % this.hist.length]!;
  }

  /** Signed move over the last k blocks, in ppm (float). */
  movePpm(k: number): number {
    const then = this.ago(k);
    return then > 0 ? ((this.oracleNum - then) / then) * 1_000_000 : 0;
  }

  /** Largest absolute move from any of the last k blocks to now, in ppm (float). */
  maxMovePpm(k: number): number {
    const now = this.oracleNum;
    let m = 0;
    const kk = Math.min(k, this.n - 1, this.hist.length - 1);
    for (let i = 1; i <= kk; i++) {
      const then = this.hist[(this.n - 1 - i) % this.hist.length]!;
      const d = Math.abs(now - then) / then;
      if (d > m) m = d;
    }
    return m * 1_000_000;
  }
}

/** Binary heap of (key, agent, version), smallest key first. */
class TriggerHeap {
  private keys: number[] = [];
  private agents: number[] = [];
  private versions: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  peek(): number | undefined {
    return this.keys[0];
  }

  push(key: number, agent: number, version: number): void {
    const k = this.keys;
    k.push(key);
    this.agents.push(agent);
    this.versions.push(version);
    let i = k.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { agent: number; version: number } {
    const top = { agent: this.agents[0]!, version: this.versions[0]! };
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.agents.pop();
    this.versions.pop();
    let i = 0;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  /** Ties broken by agent index, so the order never depends on insertion history. */
  private less(a: number, b: number): boolean {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    return ka < kb || (ka === kb && this.agents[a]! < this.agents[b]!);
  }

  private swap(a: number, b: number): void {
    const k = this.keys;
    const g = this.agents;
    const v = this.versions;
    [k[a], k[b]] = [k[b]!, k[a]!];
    [g[a], g[b]] = [g[b]!, g[a]!];
    [v[a], v[b]] = [v[b]!, v[a]!];
  }
}

/**
 * Wakes agents: at a block (a timing wheel keyed by block number) or when a
 * market's oracle falls to / rises to a trigger price. Entries are lazy: an
 * agent's `version` changes whenever it re-arms, and stale entries are
 * dropped when they come up.
 */
export class Scheduler {
  private readonly wheel = new Map<number, number[]>();
  private readonly below = new Map<number, TriggerHeap>();
  private readonly above = new Map<number, TriggerHeap>();

  at(block: number, agent: number): void {
    let list = this.wheel.get(block);
    if (!list) this.wheel.set(block, (list = []));
    list.push(agent);
  }

  /** Wake `agent` once the oracle of `market` is ≤ price. */
  whenBelow(market: number, price: number, agent: number, version: number): void {
    let h = this.below.get(market);
    if (!h) this.below.set(market, (h = new TriggerHeap()));
    h.push(-price, agent, version);
  }

  /** Wake `agent` once the oracle of `market` is ≥ price. */
  whenAbove(market: number, price: number, agent: number, version: number): void {
    let h = this.above.get(market);
    if (!h) this.above.set(market, (h = new TriggerHeap()));
    h.push(price, agent, version);
  }

  /** Agents due at `block` (scheduled) plus triggered ones whose version still matches; sorted, unique. */
  due(block: number, markets: ReadonlyMap<number, MarketView>, version: (agent: number) => number): number[] {
    const out = new Set<number>(this.wheel.get(block) ?? []);
    this.wheel.delete(block);
    for (const [id, m] of markets) {
      const p = m.oracleNum;
      const b = this.below.get(id);
      while (b && b.size && -b.peek()! >= p) {
        const e = b.pop();
        if (version(e.agent) === e.version) out.add(e.agent);
      }
      const a = this.above.get(id);
      while (a && a.size && a.peek()! <= p) {
        const e = a.pop();
        if (version(e.agent) === e.version) out.add(e.agent);
      }
    }
    return [...out].sort((x, y) => x - y);
  }
}
