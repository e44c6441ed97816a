import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OrderBookEngine,
  type AmendResult,
  type Fill,
  type MatchHooks,
  type MatchOutcome,
  type OrderInput,
  type ReduceResult,
  type RemovedOrder,
  type RestingOrder,
  type Side,
  type StopReason,
  type StpMode,
  type TakerOrder,
} from '../../modules/clob/engine/index.js';

// ------------------------------------------------------------------ naive reference model

/** The semantics written the obvious way (sort everything, scan): an oracle for the engine. */
class ModelBook {
  private book: Array<{ id: number; owner: number; side: Side; price: number; quantity: number; flags: number; seq: number }> = [];
  private seq = 0;

  private sorted(side: Side) {
    return this.book
      .filter((o) => o.side === side)
      .sort((a, b) => (side === 'buy' ? b.price - a.price : a.price - b.price) || a.seq - b.seq);
  }
  private drop(id: number): void {
    this.book = this.book.filter((o) => o.id !== id);
  }
  orders(): RestingOrder[] {
    return [...this.sorted('buy'), ...this.sorted('sell')].map((o) => ({ ...o }));
  }
  get(id: number): RestingOrder | undefined {
    const o = this.book.find((x) => x.id === id);
    return o && { ...o };
  }
  has(id: number): boolean {
    return this.book.some((o) => o.id === id);
  }
  wouldCross(side: Side, price: number): boolean {
    const opp = this.sorted(side === 'buy' ? 'sell' : 'buy')[0];
    return opp !== undefined && (side === 'buy' ? price >= opp.price : price <= opp.price);
  }
  add(o: OrderInput): number {
    this.book.push({ id: o.id, owner: o.owner, side: o.side, price: o.price, quantity: o.quantity, flags: o.flags ?? 0, seq: this.seq });
    return this.seq++;
  }
  cancel(id: number): RestingOrder | undefined {
    const o = this.get(id);
    this.drop(id);
    return o;
  }
  reduce(id: number, q: number): ReduceResult {
    const o = this.book.find((x) => x.id === id);
    if (!o) return 'not_found';
    if (q === o.quantity) return 'unchanged';
    if (q > o.quantity) return 'not_a_decrease';
    o.quantity = q;
    return 'reduced';
  }
  amend(id: number, c: { price: number; quantity: number }): AmendResult {
    const o = this.book.find((x) => x.id === id);
    if (!o) return 'not_found';
    if (c.price === o.price && c.quantity === o.quantity) return 'unchanged';
    if (c.price === o.price && c.quantity < o.quantity) return this.reduce(id, c.quantity) as 'reduced';
    if (this.wouldCross(o.side, c.price)) return 'would_cross';
    this.drop(id);
    this.add({ ...o, price: c.price, quantity: c.quantity });
    return 'requeued';
  }
  match(t: TakerOrder, hooks?: MatchHooks): { toObject(): MatchOutcome } {
    const fills: Fill[] = [];
    const removed: RemovedOrder[] = [];
    let rem = t.quantity;
    let stop: StopReason = 'book_empty';
    for (const o of this.sorted(t.side === 'buy' ? 'sell' : 'buy')) {
      if (rem === 0) break;
      if (t.side === 'buy' ? o.price > t.limitPrice : o.price < t.limitPrice) {
        stop = 'limit_price';
        break;
      }
      if (o.owner === t.owner) {
        if (t.stp === 'cancel_taking') {
          stop = 'self_trade';
          break;
        }
        removed.push({ id: o.id, owner: o.owner, flags: o.flags, price: o.price, quantity: o.quantity, reason: 'self_trade' });
        this.drop(o.id);
        if (t.stp === 'cancel_both') {
          stop = 'self_trade';
          break;
        }
        continue;
      }
      let x = Math.min(o.quantity, rem);
      if (hooks?.allow) {
        const a = hooks.allow({ ...o }, x, o.price);
        if (a < 0) {
          removed.push({ id: o.id, owner: o.owner, flags: o.flags, price: o.price, quantity: o.quantity, reason: 'hook_removed' });
          this.drop(o.id);
          continue;
        }
        if (a === 0) {
          stop = 'hook_stop';
          break;
        }
        x = Math.min(x, a);
      }
      rem -= x;
      o.quantity -= x;
      fills.push({ makerId: o.id, makerOwner: o.owner, makerFlags: o.flags, price: o.price, quantity: x, makerRemaining: o.quantity });
      if (o.quantity === 0) this.drop(o.id);
    }
    const filled = t.quantity - rem;
    const out: MatchOutcome = {
      status: rem === 0 ? 'filled' : filled > 0 ? 'partially_filled' : 'unfilled',
      stopReason: rem === 0 ? null : stop,
      side: t.side,
      quantity: t.quantity,
      filled,
      remaining: rem,
      fills,
      removed,
    };
    return { toObject: () => out };
  }
}

type BookLike = Pick<OrderBookEngine, 'add' | 'cancel' | 'reduce' | 'amend' | 'get' | 'has' | 'orders' | 'wouldCross'> & {
  match(t: TakerOrder, hooks?: MatchHooks): { toObject(): MatchOutcome };
};

// ------------------------------------------------------------------ op model

type Op =
  | { t: 'limit'; id: number; side: Side; price: number; qty: number; owner: number; stp: StpMode; hook: number; rest: boolean }
  | { t: 'market'; side: Side; qty: number; owner: number; stp: StpMode; hook: number }
  | { t: 'cancel'; pick: number }
  | { t: 'reduce'; pick: number; by: number }
  | { t: 'amend'; pick: number; price: number; qty: number };

const SEED = 20240611;
const side = fc.constantFrom<Side>('buy', 'sell');
const stp = fc.constantFrom<StpMode>('cancel_resting', 'cancel_taking', 'cancel_both');
const owner = fc.integer({ min: 1, max: 4 });
const price = fc.integer({ min: 95, max: 105 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant('limit' as const),
      id: fc.constant(0),
      side,
      price,
      qty: fc.integer({ min: 1, max: 40 }),
      owner,
      stp,
      hook: fc.integer({ min: 0, max: 2 }),
      rest: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('market' as const), side, qty: fc.integer({ min: 1, max: 80 }), owner, stp, hook: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reduce' as const), pick: fc.nat(), by: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('amend' as const), pick: fc.nat(), price, qty: fc.integer({ min: 1, max: 40 }) }) },
);

/** Give every limit order a unique id from its position in the stream. */
function numbered(ops: Op[], base = 0): Op[] {
  return ops.map((o, i) => (o.t === 'limit' ? { ...o, id: base + i + 1 } : o));
}
const opsArb = (max: number): fc.Arbitrary<Op[]> => fc.array(opArb, { maxLength: max, size: 'max' }).map((ops) => numbered(ops));

/** Deterministic hook behaviours: 0 = no hooks, 1 = allow all, 2 = mixed (partial / remove / stop / all). */
function hooksFor(mode: number): MatchHooks | undefined {
  if (mode === 0) return undefined;
  if (mode === 1) return { allow: (_m, q) => q };
  let calls = 0;
  return {
    allow(m, q) {
      const k = (m.id * 7 + calls++) % 6;
      if (k === 0) return Math.ceil(q / 2);
      if (k === 1) return -1;
      if (k === 2 && calls > 2) return 0;
      return q;
    },
  };
}

/** Per-order quantity ledger: for every id, Σ in = Σ out + resting quantity. */
class Ledger {
  readonly in = new Map<number, number>();
  readonly out = new Map<number, number>();
  credit(id: number, q: number): void {
    this.in.set(id, (this.in.get(id) ?? 0) + q);
  }
  debit(id: number, q: number): void {
    this.out.set(id, (this.out.get(id) ?? 0) + q);
  }
  problems(e: OrderBookEngine): string[] {
    const p: string[] = [];
    for (const [id, q] of this.in) {
      const rest = e.get(id)?.quantity ?? 0;
      if (q !== (this.out.get(id) ?? 0) + rest) p.push(`order ${id}: in ${q} != out ${this.out.get(id) ?? 0} + resting ${rest}`);
    }
    return p;
  }
}

function pickId(e: BookLike, pick: number): number | undefined {
  const all = e.orders();
  return all.length === 0 ? undefined : all[pick % all.length]!.id;
}

/**
 * Apply one op the way a keeper would (GTC remainders rest only when they do
 * not cross), check per-match facts, and return a comparable outcome.
 */
function apply(e: BookLike, op: Op, ledger?: Ledger): unknown {
  switch (op.t) {
    case 'limit':
    case 'market': {
      const limitPrice = op.t === 'limit' ? op.price : op.side === 'buy' ? Number.MAX_SAFE_INTEGER : 0;
      const before = new Map(e.orders().map((o) => [o.id, o]));
      const r: MatchOutcome = e.match({ owner: op.owner, side: op.side, limitPrice, quantity: op.qty, stp: op.stp }, hooksFor(op.hook)).toObject();
      // taker conservation and fill facts
      expect(r.filled + r.remaining).toBe(op.qty);
      expect(r.fills.reduce((s, f) => s + f.quantity, 0)).toBe(r.filled);
      expect(r.status).toBe(r.remaining === 0 ? 'filled' : r.filled > 0 ? 'partially_filled' : 'unfilled');
      expect(r.stopReason === null).toBe(r.remaining === 0);
      let lastPrice = op.side === 'buy' ? 0 : Number.MAX_SAFE_INTEGER;
      const seen = new Map<number, number>();
      for (const f of r.fills) {
        expect(f.quantity).toBeGreaterThan(0);
        expect(f.makerOwner).not.toBe(op.owner);
        if (op.side === 'buy') expect(f.price >= lastPrice && f.price <= limitPrice).toBe(true);
        else expect(f.price <= lastPrice && f.price >= limitPrice).toBe(true);
        lastPrice = f.price;
        const had = seen.get(f.makerId) ?? before.get(f.makerId)!.quantity;
        expect(f.price).toBe(before.get(f.makerId)!.price);
        expect(f.makerRemaining).toBe(had - f.quantity);
        seen.set(f.makerId, f.makerRemaining);
        expect(e.get(f.makerId)?.quantity ?? 0).toBe(f.makerRemaining);
        ledger?.debit(f.makerId, f.quantity);
      }
      for (const x of r.removed) {
        expect(e.has(x.id)).toBe(false);
        if (x.reason === 'self_trade') expect(x.owner).toBe(op.owner);
        ledger?.debit(x.id, x.quantity);
      }
      let rested = false;
      if (op.t === 'limit' && op.rest && r.remaining > 0 && (r.stopReason === 'limit_price' || r.stopReason === 'book_empty')) {
        if (!e.wouldCross(op.side, op.price)) {
          e.add({ id: op.id, owner: op.owner, side: op.side, price: op.price, quantity: r.remaining });
          ledger?.credit(op.id, r.remaining);
          rested = true;
        } else {
          // only possible after a partial allowance left makers at acceptable prices
          expect(op.hook).toBe(2);
        }
      }
      return { r, rested };
    }
    case 'cancel': {
      const id = pickId(e, op.pick);
      if (id === undefined) return null;
      const o = e.cancel(id)!;
      ledger?.debit(id, o.quantity);
      return o;
    }
    case 'reduce': {
      const id = pickId(e, op.pick);
      if (id === undefined) return null;
      const q = e.get(id)!.quantity;
      const nq = Math.max(1, q - op.by);
      const res = e.reduce(id, nq);
      if (res === 'reduced') ledger?.debit(id, q - nq);
      return res;
    }
    case 'amend': {
      const id = pickId(e, op.pick);
      if (id === undefined) return null;
      const o = e.get(id)!;
      const res = e.amend(id, { price: op.price, quantity: op.qty });
      if (res === 'reduced') ledger?.debit(id, o.quantity - op.qty);
      if (res === 'requeued') {
        ledger?.debit(id, o.quantity);
        ledger?.credit(id, op.qty);
      }
      return res;
    }
  }
}

function replay(ops: Op[], opts: ConstructorParameters<typeof OrderBookEngine>[0] = {}): OrderBookEngine {
  const e = new OrderBookEngine(opts);
  for (const op of ops) apply(e, op);
  return e;
}

// ------------------------------------------------------------------ properties

describe('clob engine properties', () => {
  it('after any op stream: never crossed, consistent, no zero quantities, quantities conserved per order', () => {
    fc.assert(
      fc.property(opsArb(150), (ops) => {
        const e = new OrderBookEngine({ initialCapacity: 4 });
        const ledger = new Ledger();
        const orig = new Map<number, number>();
        for (const op of ops) {
          const before = new Set(e.orders().map((o) => o.id));
          apply(e, op, ledger);
          for (const o of e.orders()) if (!before.has(o.id) && !orig.has(o.id)) orig.set(o.id, o.quantity);
          expect(e.checkInvariants()).toEqual([]);
          const bb = e.bestBid();
          const ba = e.bestAsk();
          if (bb !== undefined && ba !== undefined) expect(bb).toBeLessThan(ba);
          for (const o of e.orders()) expect(o.quantity).toBeGreaterThan(0);
        }
        expect(ledger.problems(e)).toEqual([]);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('matches a naive reference model op by op (outcomes and whole book)', () => {
    fc.assert(
      fc.property(opsArb(150), (ops) => {
        const e = new OrderBookEngine({ initialCapacity: 2 });
        const m = new ModelBook();
        for (const op of ops) {
          expect(JSON.stringify(apply(e, op))).toBe(JSON.stringify(apply(m, op)));
          expect(e.orders()).toEqual(m.orders());
        }
      }),
      { seed: SEED + 6, numRuns: 100 },
    );
  });

  it('determinism: two engines fed the same stream give identical outcomes and identical books', () => {
    fc.assert(
      fc.property(opsArb(150), fc.integer({ min: 1, max: 64 }), (ops, cap) => {
        const a = new OrderBookEngine();
        const b = new OrderBookEngine({ initialCapacity: cap, journal: false });
        for (const op of ops) expect(JSON.stringify(apply(b, op))).toBe(JSON.stringify(apply(a, op)));
        expect(b.dump()).toEqual(a.dump());
        expect(b.orders()).toEqual(a.orders());
      }),
      { seed: SEED + 1, numRuns: 60 },
    );
  });

  it('rollback to any mark equals a replay of the prefix, and both go on identically', () => {
    fc.assert(
      fc.property(opsArb(120), opsArb(40), fc.nat(), fc.nat(), (ops, more, x, y) => {
        const e = new OrderBookEngine({ initialCapacity: 2 });
        const marks: number[] = [];
        const dumps: unknown[] = [];
        for (const op of ops) {
          marks.push(e.mark());
          dumps.push(e.dump());
          apply(e, op);
        }
        marks.push(e.mark());
        dumps.push(e.dump());
        const k1 = x % marks.length;
        const k2 = Math.min(k1, y % marks.length);
        e.rollback(marks[k1]!);
        expect(e.dump()).toEqual(dumps[k1]);
        expect(e.checkInvariants()).toEqual([]);
        e.rollback(marks[k2]!);
        expect(e.dump()).toEqual(dumps[k2]);
        const r = replay(ops.slice(0, k2));
        expect(e.dump()).toEqual(r.dump());
        const tail = numbered(more, 10_000);
        for (const op of tail) expect(JSON.stringify(apply(e, op))).toBe(JSON.stringify(apply(r, op)));
        expect(e.dump()).toEqual(r.dump());
        expect(e.checkInvariants()).toEqual([]);
      }),
      { seed: SEED + 2, numRuns: 100 },
    );
  });

  it('per-tx undo closures: failed txs and abandoned blocks leave exactly the effects of the kept txs', () => {
    const txArb = fc.record({ ops: fc.array(opArb, { maxLength: 6, size: 'max' }), fail: fc.boolean() });
    const blockArb = fc.record({ txs: fc.array(txArb, { maxLength: 8, size: 'max' }), abandon: fc.boolean() });
    fc.assert(
      fc.property(fc.array(blockArb, { maxLength: 8, size: 'max' }), (blocks) => {
        let nextId = 1;
        const e = new OrderBookEngine({ initialCapacity: 2 });
        const ref = new OrderBookEngine({ journal: false });
        for (const block of blocks) {
          e.commit(); // previous block committed
          const undo: Array<() => void> = [];
          for (const tx of block.txs) {
            const ops = numbered(tx.ops, nextId - 1);
            nextId += ops.length;
            const m = e.mark();
            undo.push(() => e.rollback(m));
            for (const op of ops) apply(e, op);
            if (tx.fail) undo.pop()!();
            else if (!block.abandon) for (const op of ops) apply(ref, op);
          }
          if (block.abandon) while (undo.length) undo.pop()!();
          expect(e.dump()).toEqual(ref.dump());
        }
        expect(e.checkInvariants()).toEqual([]);
      }),
      { seed: SEED + 3, numRuns: 100 },
    );
  });

  it('a book rebuilt from its stored orders (any load order, with seqs) is identical and behaves identically', () => {
    fc.assert(
      fc.property(opsArb(120), opsArb(30), fc.nat(), (ops, more, shuffleSeed) => {
        const e = replay(ops);
        const stored = e.orders();
        // deterministic Fisher-Yates driven by an LCG
        let s = shuffleSeed >>> 0;
        for (let i = stored.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [stored[i], stored[j]] = [stored[j]!, stored[i]!];
        }
        const r = new OrderBookEngine();
        for (const o of stored) r.add(o, o.seq);
        r.setNextSeq(e.nextSeq);
        expect(r.dump()).toEqual(e.dump());
        for (const op of numbered(more, 10_000)) expect(JSON.stringify(apply(r, op))).toBe(JSON.stringify(apply(e, op)));
        expect(r.dump()).toEqual(e.dump());
      }),
      { seed: SEED + 4, numRuns: 60 },
    );
  });

  it('fillableQuantity equals what an unbounded match without hooks fills', () => {
    fc.assert(
      fc.property(opsArb(100), side, fc.integer({ min: 93, max: 107 }), fc.integer({ min: 0, max: 4 }), stp, fc.integer({ min: 1, max: 200 }), (ops, sd, limit, own, mode, upTo) => {
        const e = replay(ops);
        const opp: Side = sd === 'buy' ? 'sell' : 'buy';
        const want = own === 0 ? e.fillableQuantity(sd, limit) : e.fillableQuantity(sd, limit, { owner: own, stp: mode });
        const c = e.clone();
        const r = c.match({ owner: own, side: sd, limitPrice: limit, quantity: e.totalQuantity(opp) + 1, stp: mode });
        expect(r.filled).toBe(want);
        const capped = e.fillableQuantity(sd, limit, own === 0 ? { upTo } : { owner: own, stp: mode, upTo });
        if (want < upTo) expect(capped).toBe(want);
        else expect(capped >= upTo && capped <= want).toBe(true);
      }),
      { seed: SEED + 5, numRuns: 100 },
    );
  });
});
