/**
 * The fixed-seed order flow of the benchmarks: ~70% limit orders a few ticks
 * around a slowly drifting mid (~1 in 4 crosses by 1–2 ticks), ~25% cancels
 * of live orders, ~5% market orders, spread over `owners` owners.
 *
 * Used by bench/matching.bench.ts (the engine alone vs nodejs-order-book),
 * bench/orders.bench.ts (the same flow as signed txs through the App) and
 * bench/abci.bench.ts (blocks of those txs over the ABCI socket).
 *
 * Units are abstract: prices in ticks around 100,000, sizes in multiples of
 * 100 (each consumer maps them onto its market). Generation runs a reference
 * book (our engine, untimed, STP cancel_resting per owner) so that cancels
 * only target orders that are still resting; it also records what the
 * reference did (fills per op, the owner of every limit order, the final
 * book) so a consumer can check that its own run did the same.
 */
import { MARKET_BUY_LIMIT, MARKET_SELL_LIMIT, OrderBookEngine, type Side } from '../../modules/clob/engine/index.js';

export const LIMIT = 0;
export const CANCEL = 1;
export const MARKET = 2;
/** The mid the flow starts at (ticks). */
export const FLOW_MID = 100_000;

/** sfc32: small fast counter PRNG, 32-bit state words, fully deterministic. */
export function sfc32(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = 1;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

export interface Flow {
  n: number;
  /** LIMIT, CANCEL or MARKET per op. */
  type: Uint8Array;
  /** 0 buy, 1 sell (limit and market ops). */
  side: Uint8Array;
  /** Limit price in ticks (limit ops). */
  price: Float64Array;
  /** Size (limit and market ops; multiples of 100). */
  size: Float64Array;
  /** Limit ops: the new order's id (1, 2, …); cancel ops: the id of the live order cancelled. */
  id: Float64Array;
  /** Owner (1 … owners) of a limit or market op; for a cancel, a random owner (use `ownerOfId` for the order's owner). */
  owner: Int32Array;
  /** Owner of limit order `id` (index = id). */
  ownerOfId: Int32Array;
  /** Fills (maker orders touched) the reference book made for each op. */
  fills: Int32Array;
  idStr: string[];
  sideStr: Side[];
  ownerStr: string[];
  /** Ops per type: [limit, cancel, market]. */
  counts: number[];
  owners: number;
  /** The reference book after the whole flow. */
  reference: OrderBookEngine;
  /** Most orders one owner had resting at once. */
  maxLivePerOwner: number;
}

/**
 * Generate the flow. Cancels must target live orders, so generation runs a
 * reference book (our engine, untimed) to know which orders rest. With the
 * default 1,000 owners this is exactly the matching bench's flow.
 */
export function generateFlow(ops: number, seed: number, owners = 1000): Flow {
  const rnd = sfc32(seed);
  const int = (lo: number, hi: number): number => lo + (rnd() % (hi - lo + 1));
  const f: Flow = {
    n: ops,
    type: new Uint8Array(ops),
    side: new Uint8Array(ops),
    price: new Float64Array(ops),
    size: new Float64Array(ops),
    id: new Float64Array(ops),
    owner: new Int32Array(ops),
    ownerOfId: new Int32Array(ops + 1),
    fills: new Int32Array(ops),
    idStr: new Array<string>(ops).fill(''),
    sideStr: ['buy', 'sell'],
    ownerStr: [],
    counts: [0, 0, 0],
    owners,
    reference: new OrderBookEngine({ initialCapacity: 1 << 15, journal: false }),
    maxLivePerOwner: 0,
  };
  for (let i = 0; i <= owners; i++) f.ownerStr.push(`acct${i}`);
  const book = f.reference;
  const live: number[] = [];
  const livePos = new Int32Array(ops + 1).fill(-1);
  const liveOf = new Int32Array(owners + 1);
  const addLive = (id: number): void => {
    livePos[id] = live.length;
    live.push(id);
    const o = f.ownerOfId[id]!;
    liveOf[o] = liveOf[o]! + 1;
    if (liveOf[o]! > f.maxLivePerOwner) f.maxLivePerOwner = liveOf[o]!;
  };
  const dropLive = (id: number): void => {
    const p = livePos[id]!;
    if (p < 0) return;
    const last = live.pop()!;
    if (last !== id) {
      live[p] = last;
      livePos[last] = p;
    }
    livePos[id] = -1;
    const o = f.ownerOfId[id]!;
    liveOf[o] = liveOf[o]! - 1;
  };
  let mid = FLOW_MID;
  let nextId = 1;
  for (let i = 0; i < ops; i++) {
    if (rnd() % 64 === 0) mid += rnd() % 2 === 0 ? 1 : -1;
    const r = rnd() % 100;
    const sideBuy = rnd() % 2 === 0;
    const side: Side = sideBuy ? 'buy' : 'sell';
    const owner = int(1, owners);
    f.side[i] = sideBuy ? 0 : 1;
    f.owner[i] = owner;
    let t = r < 70 ? LIMIT : r < 95 ? CANCEL : MARKET;
    if (t === CANCEL && live.length === 0) t = LIMIT;
    f.type[i] = t;
    f.counts[t] = (f.counts[t] ?? 0) + 1;
    if (t === LIMIT) {
      // A few ticks around the mid; ~1 in 4 crosses by 1-2 ticks.
      const off = int(-2, 6);
      const price = sideBuy ? mid - off : mid + off;
      const size = 100 * int(1, 20);
      const id = nextId++;
      f.price[i] = price;
      f.size[i] = size;
      f.id[i] = id;
      f.idStr[i] = String(id);
      f.ownerOfId[id] = owner;
      const res = book.match({ owner, side, limitPrice: price, quantity: size, stp: 'cancel_resting' });
      f.fills[i] = res.fillCount;
      for (let k = 0; k < res.fillCount; k++) if (res.fillMakerRemaining(k) === 0) dropLive(res.fillMakerId(k));
      for (let k = 0; k < res.removedCount; k++) dropLive(res.removedId(k));
      if (res.remaining > 0) {
        book.add({ id, owner, side, price, quantity: res.remaining });
        addLive(id);
      }
    } else if (t === CANCEL) {
      const id = live[rnd() % live.length]!;
      f.id[i] = id;
      f.idStr[i] = String(id);
      book.cancel(id);
      dropLive(id);
    } else {
      const size = 100 * int(1, 30);
      f.size[i] = size;
      const res = book.match({ owner, side, limitPrice: sideBuy ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT, quantity: size, stp: 'cancel_resting' });
      f.fills[i] = res.fillCount;
      for (let k = 0; k < res.fillCount; k++) if (res.fillMakerRemaining(k) === 0) dropLive(res.fillMakerId(k));
      for (let k = 0; k < res.removedCount; k++) dropLive(res.removedId(k));
    }
  }
  return f;
}

/** The signer of op i: the op's owner, or for a cancel the owner of the order it cancels. */
export function signerOf(f: Flow, i: number): number {
  return f.type[i] === CANCEL ? f.ownerOfId[f.id[i]!]! : f.owner[i]!;
}
