/**
 * The liquidation index: finds every subaccount with NC < MMR without
 * scanning all of them.
 *
 * Exact linearity. In units of 10^-24 uusdc, with per market
 *   base = price · 10^(e + 18)            (10^-18 uusdc per quantum at the oracle price)
 *   G    = (10^6 − MMF) · base − 10^6 · F  (the coordinate longs lose on: price, funding)
 *   H    = (10^6 + MMF) · base − 10^6 · F  (the coordinate shorts lose on)
 * the exact (unrounded) margin surplus of an account is
 *   M = K + Σ_longs size·G + Σ_shorts size·H,   K = 10^24·collateral + 10^6·Σ (size·entryIndex + carry)
 * and the integer NC − MMR the chain uses differs from M/10^24 by less than
 * 3 uusdc per position (value and funding floor, MMR ceil). So:
 *   M < 0            ⇒ liquidatable;
 *   M ≥ 3n·10^24     ⇒ not liquidatable;
 *   in between       ⇒ compute NC and MMR exactly (rare).
 *
 * Conservative thresholds. When an account is evaluated, its safe budget
 * B = M − 3n·10^24 is split over its positions in proportion to their
 * notional (d_i = ⌊B·X_i / Σ|s_j|·X_j⌋, so Σ|s_i|·d_i ≤ B) and each position
 * gets a trigger on its market's coordinate: a long fires when G drops below
 * G₀ − d, a short when H rises above H₀ + d. While no trigger has fired, M has
 * lost less than B, so the account cannot be liquidatable: every liquidatable
 * account is either triggered or already "hot" (B < 0). Triggered and hot
 * accounts get the exact check; the others cost nothing. The per-block work
 * grows with accounts near or past the line, and the decision is exact.
 *
 * In-memory and derived: rebuilt from state on start; tx rollbacks are undone
 * through the journal; heap entries are lazy (an entry is live while it
 * points at the account's current evaluation object).
 */
import type { Journal } from '../../chain/context.js';
import { SortedRunHeap } from '../../chain/collections/lazy-heap.js';
import { ceilDiv, floorDiv, pow10 } from '../../chain/math/int.js';
import { FUNDING_SCALE } from '../subaccounts/index.js';

const M6 = 1_000_000n;
const E24 = 10n ** 24n;

export interface MarketCoords {
  id: number;
  mmf: bigint;
  base: bigint;
  g: bigint;
  h: bigint;
}

/** Coordinates of a market at a price and funding index (quote exponent e ≥ −18). */
export function marketCoords(id: number, e: number, mmf: bigint, price: bigint, fundingIndex: bigint): MarketCoords {
  if (e < -18) throw new RangeError(`market ${id}: quote exponent ${e} below −18 is not supported by the liquidation index`);
  const base = price * pow10(e + 18);
  return { id, mmf, base, g: (M6 - mmf) * base - M6 * fundingIndex, h: (M6 + mmf) * base - M6 * fundingIndex };
}

export interface IndexedPosition {
  marketId: number;
  size: bigint;
  /** Signed cost basis in uusdc (ADL ranks by PnL = value − cost basis). */
  costBasis: bigint;
}

export interface AccountState {
  key: string;
  k: bigint;
  positions: IndexedPosition[];
  /** Evaluated with no safe budget: checked every block. */
  hot: boolean;
  /** True while this is the account's current evaluation: heap entries pointing at a superseded one are stale. */
  current: boolean;
  /** The candidates() pass that last returned it (dedupes an account triggered on several markets). */
  seen: number;
}

export interface SubaccountLike {
  owner: string;
  number: number;
  collateral: bigint;
  positions: ReadonlyArray<{ marketId: number; size: bigint; costBasis: bigint; fundingIndex: bigint; fundingCarry: bigint }>;
}

export function accountKey(s: { owner: string; number: number }): string {
  return `${s.owner}/${s.number}`;
}

/** K of the linear form (10^-24 uusdc). */
function constantOf(s: SubaccountLike): bigint {
  let k = s.collateral * E24;
  for (const p of s.positions) k += M6 * (p.size * p.fundingIndex + p.fundingCarry);
  return k;
}

/** Exact margin surplus M (10^-24 uusdc) of an indexed account at the given coordinates. */
export function surplus(a: Pick<AccountState, 'k' | 'positions'>, coords: ReadonlyMap<number, MarketCoords>): bigint {
  let m = a.k;
  for (const p of a.positions) {
    const c = coords.get(p.marketId)!;
    m += p.size * (p.size > 0n ? c.g : c.h);
  }
  return m;
}

export class RiskIndex {
  private readonly accounts = new Map<string, AccountState>();
  private readonly holders = new Map<number, Set<string>>();
  /** Trigger heaps per market; each entry points at the evaluation it belongs to (stale once superseded). */
  private readonly longs = new Map<number, SortedRunHeap<AccountState>>();
  private readonly shorts = new Map<number, SortedRunHeap<AccountState>>();
  /** Per market: thresholds and coordinates are compared divided by this power of ten, as safe integers. */
  private readonly scales = new Map<number, bigint>();
  private readonly hot = new Set<string>();
  /** Heap entries pushed (live and stale), for memory figures and compaction. */
  private entriesHeld = 0;
  /** Counter of candidates() passes (see AccountState.seen). */
  private pass = 0;
  /** Σ positions of indexed accounts (kept incrementally: compaction must not scan). */
  private live = 0;
  /** MMF each market's entries were computed with (a change re-evaluates its holders). */
  readonly mmfSeen = new Map<number, bigint>();

  clear(): void {
    this.live = 0;
    this.scales.clear();
    for (const a of this.accounts.values()) a.current = false;
    this.accounts.clear();
    this.holders.clear();
    this.longs.clear();
    this.shorts.clear();
    this.entriesHeld = 0;
    this.hot.clear();
    this.mmfSeen.clear();
  }

  get size(): number {
    return this.accounts.size;
  }

  get(key: string): AccountState | undefined {
    return this.accounts.get(key);
  }

  holdersOf(marketId: number): ReadonlySet<string> {
    return this.holders.get(marketId) ?? new Set();
  }

  /** Heap entries held (including stale ones), for memory figures. */
  get entryCount(): number {
    return this.entriesHeld;
  }

  /**
   * (Re)evaluate an account at the given coordinates. Journaled: a rollback
   * restores the previous evaluation (its heap entries are still there).
   */
  update(sub: SubaccountLike, coords: ReadonlyMap<number, MarketCoords>, journal: Journal | undefined): void {
    const key = accountKey(sub);
    const prev = this.accounts.get(key);
    const wasHot = this.hot.has(key);
    const prevHolders = prev?.positions.map((p) => p.marketId) ?? [];
    this.live -= prev?.positions.length ?? 0;
    if (sub.positions.length === 0) {
      this.setCurrent(key, undefined);
      this.hot.delete(key);
    } else {
      const a: AccountState = {
        key,
        k: constantOf(sub),
        positions: sub.positions.map((p) => ({ marketId: p.marketId, size: p.size, costBasis: p.costBasis })),
        hot: false,
        current: false,
        seen: 0,
      };
      this.place(a, coords);
      this.setCurrent(key, a);
      this.live += a.positions.length;
    }
    const liveDelta = (prev?.positions.length ?? 0) - sub.positions.length;
    const nowHolders = sub.positions.map((p) => p.marketId);
    for (const m of prevHolders) if (!nowHolders.includes(m)) this.holders.get(m)?.delete(key);
    for (const m of nowHolders) {
      let set = this.holders.get(m);
      if (!set) this.holders.set(m, (set = new Set()));
      set.add(key);
    }
    journal?.onRevert(() => {
      this.live += liveDelta;
      this.setCurrent(key, prev);
      if (wasHot) this.hot.add(key);
      else this.hot.delete(key);
      for (const m of nowHolders) this.holders.get(m)?.delete(key);
      for (const m of prevHolders) this.holders.get(m)?.add(key);
    });
  }

  /** Push an account's triggers (or mark it hot when it has no safe budget). */
  private place(a: AccountState, coords: ReadonlyMap<number, MarketCoords>): void {
    const n = BigInt(a.positions.length);
    const budget = surplus(a, coords) - 3n * n * E24;
    if (budget < 0n) {
      a.hot = true;
      this.hot.add(a.key);
      return;
    }
    a.hot = false;
    this.hot.delete(a.key);
    let weight = 0n;
    for (const p of a.positions) weight += abs(p.size) * coords.get(p.marketId)!.base;
    const ids: number[] = [];
    const keys: number[] = [];
    for (const p of a.positions) {
      const c = coords.get(p.marketId)!;
      const d = weight === 0n ? 0n : floorDiv(budget * c.base, weight);
      const scale = this.scaleOf(c);
      // Scaled conservatively: a long fires when ⌊G/S⌋ < ⌈T/S⌉, a short when ⌈H/S⌉ > ⌊T/S⌋ (never later than the exact test).
      const key = p.size > 0n ? -Number(ceilDiv(c.g - d, scale)) : Number(floorDiv(c.h + d, scale));
      if (!(Math.abs(key) < SAFE_KEY)) {
        // out of the scaled range: keep it hot (checked every block) rather than risk a missed trigger
        a.hot = true;
        this.hot.add(a.key);
        return;
      }
      ids.push(p.marketId);
      keys.push(key);
    }
    a.positions.forEach((p, i) => {
      this.entriesHeld++;
      heapOf(p.size > 0n ? this.longs : this.shorts, ids[i]!).push(keys[i]!, a);
    });
  }

  /** The market's scale: 10^(digits − 12) of its coordinates when first seen, so scaled values sit near 10^12. */
  private scaleOf(c: MarketCoords): bigint {
    let s = this.scales.get(c.id);
    if (s === undefined) {
      const mag = (c.g < 0n ? -c.g : c.g) > (c.h < 0n ? -c.h : c.h) ? (c.g < 0n ? -c.g : c.g) : c.h < 0n ? -c.h : c.h;
      const digits = mag.toString().length;
      s = digits > 12 ? 10n ** BigInt(digits - 12) : 1n;
      this.scales.set(c.id, s);
    }
    return s;
  }

  /** When a market's coordinates leave the scaled range (a price up ~1000×), choose a new scale and re-arm its holders. */
  private rescaleIfNeeded(coords: ReadonlyMap<number, MarketCoords>): void {
    for (const [id, c] of coords) {
      const s = this.scales.get(id);
      if (s === undefined) continue;
      const g = Number(floorDiv(c.g, s));
      const h = Number(ceilDiv(c.h, s));
      if (Math.abs(g) < SAFE_KEY / 8 && Math.abs(h) < SAFE_KEY / 8) continue;
      this.scales.delete(id);
      this.longs.delete(id);
      this.shorts.delete(id);
      for (const key of [...this.holdersOf(id)].sort()) this.refresh(key, coords);
    }
  }

  /**
   * Re-evaluate one indexed account at new coordinates (a new evaluation, fresh
   * triggers) without touching the store: after an exact check found it safe.
   */
  refresh(key: string, coords: ReadonlyMap<number, MarketCoords>): void {
    const a = this.accounts.get(key);
    if (!a) return;
    const fresh: AccountState = { ...a };
    this.place(fresh, coords);
    this.setCurrent(key, fresh);
  }

  /** Make `a` the account's current evaluation (or remove the account), marking the one it replaces stale. */
  private setCurrent(key: string, a: AccountState | undefined): void {
    const old = this.accounts.get(key);
    if (old) old.current = false;
    if (a) {
      a.current = true;
      this.accounts.set(key, a);
    } else this.accounts.delete(key);
  }

  /** Drop stale heap entries when they outnumber live positions 4 to 1 (bounded memory). */
  compactIfNeeded(coords: ReadonlyMap<number, MarketCoords>): boolean {
    if (this.entriesHeld <= 4 * this.live + 1024) return false;
    this.longs.clear();
    this.shorts.clear();
    this.entriesHeld = 0;
    for (const key of [...this.accounts.keys()].sort()) this.refresh(key, coords);
    this.seal();
    return true;
  }

  /** Sort every market's pending triggers into its run (after a bulk load or a rebuild): later pops are cursor steps. */
  seal(): void {
    for (const h of this.longs.values()) h.seal();
    for (const h of this.shorts.values()) h.seal();
  }

  /**
   * Accounts whose trigger fired at these coordinates, plus every hot
   * account, each once (current evaluations, in no particular order: the
   * caller's decision per account does not depend on it). Popped entries are
   * consumed: the caller must refresh() every returned account that is not
   * liquidatable.
   */
  candidates(coords: ReadonlyMap<number, MarketCoords>): AccountState[] {
    this.rescaleIfNeeded(coords);
    const pass = ++this.pass;
    const out: AccountState[] = [];
    for (const key of this.hot) {
      const a = this.accounts.get(key);
      if (a && a.seen !== pass) {
        a.seen = pass;
        out.push(a);
      }
    }
    for (const [id, c] of coords) {
      const scale = this.scales.get(id);
      if (scale === undefined) continue;
      const g = Number(floorDiv(c.g, scale));
      const h = Number(ceilDiv(c.h, scale));
      const longs = this.longs.get(id);
      while (longs?.size && -longs.peekKey()! > g) this.take(longs.popValue()!, out, pass);
      const shorts = this.shorts.get(id);
      while (shorts?.size && shorts.peekKey()! < h) this.take(shorts.popValue()!, out, pass);
    }
    return out;
  }

  /** An entry is live while its evaluation is still the account's current one. */
  private take(e: AccountState, out: AccountState[], pass: number): void {
    this.entriesHeld--;
    if (e.current && e.seen !== pass) {
      e.seen = pass;
      out.push(e);
    }
  }

  /** Mark an account hot (liquidatable, in progress): checked every block until it changes. */
  markHot(a: AccountState): void {
    this.hot.add(a.key);
    a.hot = true;
  }
}

const SAFE_KEY = 2 ** 52;

function heapOf(m: Map<number, SortedRunHeap<AccountState>>, id: number): SortedRunHeap<AccountState> {
  let h = m.get(id);
  if (!h) m.set(id, (h = new SortedRunHeap<AccountState>()));
  return h;
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

export { FUNDING_SCALE };
