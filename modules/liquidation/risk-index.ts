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
 * The hot path is flat. Each indexed account has a slot and one 64-byte
 * line in a typed array: a floating-point copy of its linear form (K and up
 * to 3 positions), a numeric key prefix for ordering, its evaluation
 * generation and its place in the hot list. Heap entries are numbers
 * (slot, generation). detect() screens a candidate with that line: the
 * float surplus and a rigorous bound on its rounding error decide M < 0 or
 * M ≥ 3n·10^24 for almost every account, and only an undecided one (inside
 * the error bound, or with more positions than the line holds) is computed
 * in bigint. Floats never decide anything on their own: every answer is the
 * one the exact integers give.
 *
 * In-memory and derived: rebuilt from state on start; tx rollbacks are undone
 * through the journal; heap entries are lazy (an entry is live while its
 * generation is the slot's current one).
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

/** One evaluation of an account: its linear form at the time it was (re)placed. Immutable once made current. */
export interface AccountState {
  key: string;
  k: bigint;
  positions: IndexedPosition[];
  /** Generation of this evaluation: heap entries carrying another one are stale. */
  gen: number;
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

/** Exact MMR (10^-24 uusdc) of an indexed account at the given coordinates. */
export function maintenance(a: Pick<AccountState, 'positions'>, coords: ReadonlyMap<number, MarketCoords>): bigint {
  let mmr = 0n;
  for (const p of a.positions) {
    const c = coords.get(p.marketId)!;
    mmr += (p.size < 0n ? -p.size : p.size) * c.mmf * c.base;
  }
  return mmr;
}

/**
 * Floating-point copies of the market coordinates for screen(), indexed by
 * market id: G, H and MMF·base per quantum (10^-24 uusdc). `ok` is false when
 * a market id is too large for the arrays (every account is then undecided).
 */
export interface FloatCoords {
  g: Float64Array;
  h: Float64Array;
  mm: Float64Array;
  ok: boolean;
}

/** Positions a slot's float line holds; an account with more is always computed in bigint. */
const LINE_POSITIONS = 3;
/**
 * Doubles per slot, one 64-byte cache line holding all that detection reads:
 * [K, n + 4·(market₀ + 2^16·(market₁ + 2^16·market₂)) or −1, size₀, size₁, size₂, keyPrefix(key),
 *  generation of the current evaluation (NO_GEN: none), index in the hot list (−1: not hot)].
 */
const LINE = 8;
const L_IDS = 1;
const L_SIZE = 2;
const L_TIE = 5;
const L_GEN = 6;
const L_HOT = 7;
const MARKET_SPAN = 65_536;
/** Heap payload = slot · GEN_SPAN + generation. */
const GEN_SPAN = 2 ** 21;
const NO_GEN = -1;
/**
 * Relative bound on the rounding error of a float screen: every term is a
 * correctly rounded conversion or product (relative error ≤ u = 2^-53 per
 * operation: K and G converted, size converted and multiplied) and at most 4
 * terms are summed (≤ u of the running magnitude per addition), so the error
 * is below 7u ≈ 7.8·10^-16 of the sum of magnitudes; 10^-14 leaves a margin
 * of more than 10×.
 */
const REL_ERR = 1e-14;
const T24 = 3e24;
/** Largest market id the float arrays index directly. */
const MAX_FLOAT_MARKET = 1 << 16;

export class RiskIndex {
  private readonly slotOf = new Map<string, number>();
  /** Slot → key; append-only for the life of the index (clear() starts a new array, so holders of the old one stay right). */
  private keyOf: string[] = [];
  /** The current evaluation per slot (undefined: no positions). */
  private readonly evals: Array<AccountState | undefined> = [];
  private capacity = 0;
  private line = new Float64Array(0);
  private readonly hotList: number[] = [];
  private count = 0;
  private nextGen = 0;
  private readonly holders = new Map<number, Set<string>>();
  /** Trigger heaps per market; each entry carries (slot, generation) of the evaluation it belongs to. */
  private readonly longs = new Map<number, SortedRunHeap>();
  private readonly shorts = new Map<number, SortedRunHeap>();
  /** Per market: thresholds and coordinates are compared divided by this power of ten, as safe integers. */
  private readonly scales = new Map<number, bigint>();
  /** Heap entries pushed (live and stale), for memory figures and compaction. */
  private entriesHeld = 0;
  /** Σ positions of indexed accounts (kept incrementally: compaction must not scan). */
  private live = 0;
  /** MMF each market's entries were computed with (a change re-evaluates its holders). */
  readonly mmfSeen = new Map<number, bigint>();

  clear(): void {
    this.live = 0;
    this.scales.clear();
    this.slotOf.clear();
    this.keyOf = [];
    this.evals.length = 0;
    this.capacity = 0;
    this.line = new Float64Array(0);
    this.hotList.length = 0;
    this.count = 0;
    this.holders.clear();
    this.longs.clear();
    this.shorts.clear();
    this.entriesHeld = 0;
    this.mmfSeen.clear();
  }

  get size(): number {
    return this.count;
  }

  get(key: string): AccountState | undefined {
    const slot = this.slotOf.get(key);
    return slot === undefined ? undefined : this.evals[slot];
  }

  /** The slot of an account ever indexed (slots are stable for the life of the index). */
  slot(key: string): number | undefined {
    return this.slotOf.get(key);
  }

  /** The current evaluation in a slot (as returned by candidates()). */
  evalAt(slot: number): AccountState | undefined {
    return this.evals[slot];
  }

  /** The slot → key table as it is now (stays valid for these slots after a clear()). */
  get keys(): readonly string[] {
    return this.keyOf;
  }

  holdersOf(marketId: number): ReadonlySet<string> {
    return this.holders.get(marketId) ?? new Set();
  }

  /** Heap entries held (including stale ones), for memory figures. */
  get entryCount(): number {
    return this.entriesHeld;
  }

  /** Slots are never reused: a rolled-back removal may bring an account back into its slot. */
  private slotFor(key: string): number {
    let slot = this.slotOf.get(key);
    if (slot !== undefined) return slot;
    slot = this.keyOf.length;
    if (slot >= this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    this.keyOf.push(key);
    this.evals.push(undefined);
    this.slotOf.set(key, slot);
    this.line[slot * LINE + L_TIE] = keyPrefix(key);
    return slot;
  }

  private grow(cap: number): void {
    // every new line is written here, so the first touch of each page is not a page fault inside a block
    const line = new Float64Array(cap * LINE);
    line.set(this.line);
    for (let o = this.capacity * LINE; o < line.length; o += LINE) {
      line[o + L_GEN] = NO_GEN;
      line[o + L_HOT] = -1;
    }
    this.line = line;
    this.capacity = cap;
  }

  /**
   * (Re)evaluate an account at the given coordinates. Journaled: a rollback
   * restores the previous evaluation (its heap entries are still there).
   */
  update(sub: SubaccountLike, coords: ReadonlyMap<number, MarketCoords>, journal: Journal | undefined): void {
    const key = accountKey(sub);
    const slot = this.slotFor(key);
    const prev = this.evals[slot];
    const wasHot = this.line[slot * LINE + L_HOT]! >= 0;
    const prevHolders = prev?.positions.map((p) => p.marketId) ?? [];
    this.live -= prev?.positions.length ?? 0;
    if (sub.positions.length === 0) {
      this.setCurrent(slot, undefined);
      this.setHot(slot, false);
    } else {
      const a: AccountState = {
        key,
        k: constantOf(sub),
        positions: sub.positions.map((p) => ({ marketId: p.marketId, size: p.size, costBasis: p.costBasis })),
        gen: this.newGen(),
      };
      this.place(slot, a, coords);
      this.setCurrent(slot, a);
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
      this.setCurrent(slot, prev);
      this.setHot(slot, wasHot);
      for (const m of nowHolders) this.holders.get(m)?.delete(key);
      for (const m of prevHolders) this.holders.get(m)?.add(key);
    });
  }

  private newGen(): number {
    const g = this.nextGen;
    this.nextGen = (g + 1) % GEN_SPAN;
    return g;
  }

  private setHot(slot: number, on: boolean): void {
    const line = this.line;
    const at = line[slot * LINE + L_HOT]!;
    if (on) {
      if (at < 0) {
        line[slot * LINE + L_HOT] = this.hotList.length;
        this.hotList.push(slot);
      }
    } else if (at >= 0) {
      // swap-remove: the hot list has no order (candidates() returns slots sorted)
      const last = this.hotList.pop()!;
      if (last !== slot) {
        this.hotList[at] = last;
        line[last * LINE + L_HOT] = at;
      }
      line[slot * LINE + L_HOT] = -1;
    }
  }

  /** Push an account's triggers (or mark it hot when it has no safe budget). */
  private place(slot: number, a: AccountState, coords: ReadonlyMap<number, MarketCoords>): void {
    const n = BigInt(a.positions.length);
    const budget = surplus(a, coords) - 3n * n * E24;
    if (budget < 0n) {
      this.setHot(slot, true);
      return;
    }
    this.setHot(slot, false);
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
        this.setHot(slot, true);
        return;
      }
      ids.push(p.marketId);
      keys.push(key);
    }
    const payload = slot * GEN_SPAN + a.gen;
    a.positions.forEach((p, i) => {
      this.entriesHeld++;
      heapOf(p.size > 0n ? this.longs : this.shorts, ids[i]!).push(keys[i]!, payload);
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
    const slot = this.slotOf.get(key);
    if (slot !== undefined) this.refreshSlot(slot, coords);
  }

  refreshSlot(slot: number, coords: ReadonlyMap<number, MarketCoords>): void {
    const a = this.evals[slot];
    if (!a) return;
    const fresh: AccountState = { ...a, gen: this.newGen() };
    this.place(slot, fresh, coords);
    this.setCurrent(slot, fresh);
  }

  /** Make `a` the slot's current evaluation (or empty the slot), which makes the heap entries of any other stale. */
  private setCurrent(slot: number, a: AccountState | undefined): void {
    const had = this.evals[slot] !== undefined;
    this.evals[slot] = a;
    this.count += (a ? 1 : 0) - (had ? 1 : 0);
    const line = this.line;
    const o = slot * LINE;
    if (!a) {
      line[o + L_GEN] = NO_GEN;
      return;
    }
    line[o + L_GEN] = a.gen;
    const n = a.positions.length;
    line[o] = Number(a.k);
    let ids = 0;
    for (let j = Math.min(n, LINE_POSITIONS) - 1; j >= 0; j--) {
      const p = a.positions[j]!;
      ids = ids * MARKET_SPAN + p.marketId;
      line[o + L_SIZE + j] = Number(p.size);
    }
    const fits = n <= LINE_POSITIONS && a.positions.every((p) => p.marketId < MARKET_SPAN);
    line[o + L_IDS] = fits ? n + 4 * ids : -1;
  }

  /** Drop stale heap entries when they outnumber live positions 4 to 1 (bounded memory). */
  compactIfNeeded(coords: ReadonlyMap<number, MarketCoords>): boolean {
    if (this.entriesHeld <= 4 * this.live + 1024) return false;
    this.longs.clear();
    this.shorts.clear();
    this.entriesHeld = 0;
    for (const key of [...this.slotOf.keys()].sort()) this.refresh(key, coords);
    this.seal();
    return true;
  }

  /** Sort every market's pending triggers into its run (after a bulk load or a rebuild): later pops are cursor steps. */
  seal(): void {
    for (const h of this.longs.values()) h.seal();
    for (const h of this.shorts.values()) h.seal();
  }

  /**
   * The accounts whose trigger fired at these coordinates, plus every hot
   * account, each once and screened (see screen()), in slot order. Fired
   * entries are collected first and visited in slot order, and each account
   * is checked, screened and (when liquidatable for certain) marked hot in
   * one visit to its line: at a million accounts every line is a TLB miss on
   * these VMs, which costs more than everything else here. Popped entries are
   * consumed: the caller must refreshSlot() every returned account that is
   * not liquidatable and markHot() the undecided ones that are.
   */
  candidates(coords: ReadonlyMap<number, MarketCoords>): Candidates {
    this.rescaleIfNeeded(coords);
    const fired: number[] = [];
    for (const [id, c] of coords) {
      const scale = this.scales.get(id);
      if (scale === undefined) continue;
      const g = Number(floorDiv(c.g, scale));
      const h = Number(ceilDiv(c.h, scale));
      // a long fires when −key > g, i.e. key < −g; a short when key < h
      this.longs.get(id)?.drainBelow(-g, fired);
      this.shorts.get(id)?.drainBelow(h, fired);
    }
    this.entriesHeld -= fired.length;
    const cap = this.hotList.length + fired.length;
    if (cap === 0) return NO_CANDIDATES; // a quiet block: nothing to screen
    const payloads = sortBySlot(fired);
    const hot = Int32Array.from(this.hotList).sort();
    const f = this.floatCoords(coords);
    const out: Candidates = { n: 0, slot: new Int32Array(cap), status: new Int8Array(cap), ppm: new Float64Array(cap), tie: new Float64Array(cap) };
    const line = this.line;
    let i = 0;
    let j = 0;
    let last = -1;
    // merge the two sorted lists: a hot slot comes before a fired entry of the same slot, which is then skipped
    while (i < hot.length || j < payloads.length) {
      const hs = i < hot.length ? hot[i]! : Infinity;
      const ps = j < payloads.length ? Math.floor(payloads[j]! / GEN_SPAN) : Infinity;
      let slot: number;
      if (hs <= ps) {
        slot = hs;
        i++;
      } else {
        const v = payloads[j++]!;
        slot = ps;
        if (slot === last) continue;
        const o = slot * LINE;
        if (line[o + L_GEN] !== v - slot * GEN_SPAN || line[o + L_HOT]! >= 0) continue; // stale, or hot (already in)
      }
      last = slot;
      const k = out.n++;
      const status = this.screen(slot, f);
      out.slot[k] = slot;
      out.status[k] = status;
      out.tie[k] = line[slot * LINE + L_TIE]!;
      out.ppm[k] = NaN;
      if (status === 1) {
        out.ppm[k] = ppmFloor(this.ratio, this.ratioErr) ?? NaN;
        this.setHot(slot, true);
      }
    }
    return out;
  }

  /** Mark an account hot (liquidatable, in progress): checked every block until it changes. */
  markHot(slot: number): void {
    this.setHot(slot, true);
  }

  /** Float copies of the coordinates for screen(). */
  floatCoords(coords: ReadonlyMap<number, MarketCoords>): FloatCoords {
    let max = -1;
    for (const id of coords.keys()) max = Math.max(max, id);
    const ok = max < MAX_FLOAT_MARKET;
    const n = ok ? max + 1 : 0;
    const f: FloatCoords = { g: new Float64Array(n).fill(NaN), h: new Float64Array(n).fill(NaN), mm: new Float64Array(n).fill(NaN), ok };
    if (ok) {
      for (const [id, c] of coords) {
        f.g[id] = Number(c.g);
        f.h[id] = Number(c.h);
        f.mm[id] = Number(c.mmf * c.base);
      }
    }
    return f;
  }

  /**
   * Screen a slot's current evaluation in floating point, with a bound on the
   * rounding error: 1 when M < 0 for certain (liquidatable), 0 when
   * M ≥ 3n·10^24 for certain (safe), −1 when undecided (compute it exactly).
   * On 1, `ratio` holds NC/MMR and `ratioErr` a bound on its error.
   */
  screen(slot: number, f: FloatCoords): number {
    const line = this.line;
    const o = slot * LINE;
    const packed = line[o + L_IDS]!;
    if (packed < 0 || !f.ok) return -1;
    const n = packed % 4;
    let ids = (packed - n) / 4;
    let m = line[o]!;
    let mag = Math.abs(m);
    let mmr = 0;
    for (let j = 0; j < n; j++) {
      const id = ids % MARKET_SPAN;
      ids = (ids - id) / MARKET_SPAN;
      const s = line[o + L_SIZE + j]!;
      const t = s * (s > 0 ? f.g[id]! : f.h[id]!);
      m += t;
      mag += Math.abs(t);
      mmr += Math.abs(s) * f.mm[id]!;
    }
    // NaN or ±∞ (an id outside the arrays, values beyond the float range) make every comparison false: undecided
    const err = REL_ERR * (mag + T24 * n);
    if (m - err >= T24 * n) return 0;
    if (!(m + err < 0)) return -1;
    const mmrErr = REL_ERR * mmr;
    if (!(mmr - mmrErr > 0)) return -1;
    const nc = m + mmr;
    const ratio = nc / mmr;
    if (!Number.isFinite(ratio)) return -1;
    this.ratio = ratio;
    // |NC − nc| ≤ err + mmrErr and |MMR − mmr| ≤ mmrErr, so |NC/MMR − ratio| ≤ (err + mmrErr + |ratio|·mmrErr) / (mmr − mmrErr); doubled for the division's own rounding
    this.ratioErr = (2 * (err + mmrErr + Math.abs(ratio) * mmrErr)) / (mmr - mmrErr) + REL_ERR * Math.abs(ratio);
    return 1;
  }

  /** Output of the last screen() that returned 1. */
  ratio = 0;
  ratioErr = 0;
}

const SAFE_KEY = 2 ** 52;
const RATIO_CLAMP_N = 2 ** 52;

const NO_CANDIDATES: Candidates = { n: 0, slot: new Int32Array(0), status: new Int8Array(0), ppm: new Float64Array(0), tie: new Float64Array(0) };

/** Screened candidates of one detect() (the first n entries of each array are used). */
export interface Candidates {
  n: number;
  slot: Int32Array;
  /** screen(): 1 liquidatable, 0 safe, −1 undecided (compute it exactly). */
  status: Int8Array;
  /** ⌊NC/MMR · 10^6⌋ when status is 1 and the float bound pins it down, else NaN. */
  ppm: Float64Array;
  /** keyPrefix() of the slot's key. */
  tie: Float64Array;
}

/**
 * ⌊x · 10^6⌋ for every x within `err` of `ratio`, when they all agree (and
 * the result is a safe integer); undefined otherwise, and the caller
 * computes it exactly. The 10^-9 relative widening covers the rounding of
 * the products and sums here, which is below 10^-15.
 */
export function ppmFloor(ratio: number, err: number): number | undefined {
  const x = ratio * 1e6;
  const w = err * 1e6 + 1e-9 * Math.abs(x) + 1e-9;
  const lo = Math.floor(x - w);
  if (!(Math.abs(lo) < RATIO_CLAMP_N) || Math.floor(x + w) !== lo) return undefined;
  return lo;
}

/**
 * Characters 5–11 of a key that starts with "perp1" (what follows the
 * address prefix), 7 bits each, as one safe integer: a < b ⇒ prefix(a) ≤
 * prefix(b), so comparing prefixes first and the strings only on equal ones
 * is exactly string order. NaN (always compared as strings) for other keys.
 */
export function keyPrefix(key: string): number {
  if (!key.startsWith('perp1')) return NaN;
  let v = 0;
  for (let i = 5; i < 12; i++) {
    const c = i < key.length ? key.charCodeAt(i) : 0;
    if (c > 127) return NaN;
    v = v * 128 + c;
  }
  return v;
}

/**
 * Heap payloads (slot · GEN_SPAN + generation) ordered by slot, in a stable
 * LSD radix sort of 11-bit digits: a few linear passes where a comparison
 * sort of the ~20,000 entries a big move fires costs a millisecond or two.
 * Entries of one slot keep their drained order; candidates() does not
 * depend on it.
 */
export function sortBySlot(payloads: readonly number[]): Float64Array {
  const n = payloads.length;
  let a = new Float64Array(payloads);
  if (n < 2) return a;
  let maxSlot = 0;
  const slots = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.floor(a[i]! / GEN_SPAN);
    slots[i] = s;
    if (s > maxSlot) maxSlot = s;
  }
  let b = new Float64Array(n);
  let sa = slots;
  let sb = new Uint32Array(n);
  const count = new Uint32Array(RADIX);
  for (let shift = 0; shift === 0 || maxSlot >>> shift > 0; shift += RADIX_BITS) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(sa[i]! >>> shift) & (RADIX - 1)]!++;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = count[(sa[i]! >>> shift) & (RADIX - 1)]!++;
      b[at] = a[i]!;
      sb[at] = sa[i]!;
    }
    [a, b] = [b, a];
    [sa, sb] = [sb, sa];
    if (shift + RADIX_BITS >= 32) break;
  }
  return a;
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;

function heapOf(m: Map<number, SortedRunHeap>, id: number): SortedRunHeap {
  let h = m.get(id);
  if (!h) m.set(id, (h = new SortedRunHeap()));
  return h;
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

export { FUNDING_SCALE };
