import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { ChainError } from '../../chain/errors/index.js';
import { Branch } from '../../chain/store/branch.js';
import { Journal } from '../../chain/context.js';
import type { Side, TimeInForce, OrderType, StpMode } from '../../modules/clob/index.js';

/**
 * Random order streams through the clob keeper, each op as a tx (nested
 * branch + journal, dropped on error, like the App does). After every
 * block: not crossed, engine = store, uusdc conserved, OI long = short; for
 * every order: filled + cancelled/open remainder = its size; two keepers fed
 * the same stream end identical.
 */
const keys = testKeys(8, 'stream');
const TRADERS = 6;
const owner = (i: number) => keys[2 + i]!.address;

function harness() {
  const h = new ModuleHarness({
    bank: { balances: keys.map((k) => ({ address: k.address, amount: '100000000000000' })) },
    ...marketsAppState(keys[0]!.address, [keys[1]!.address]),
  });
  for (let i = 0; i < TRADERS; i++) h.run((ctx) => h.keepers.subaccounts.deposit(ctx, { owner: owner(i), number: 0 }, 200_000_000_000n));
  return h;
}

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('place' as const),
      t: fc.nat(TRADERS - 1),
      side: fc.constantFrom<Side>('buy', 'sell'),
      off: fc.integer({ min: -8, max: 8 }),
      lots: fc.integer({ min: 1, max: 50 }),
      tif: fc.constantFrom<TimeInForce>('gtc', 'gtc', 'ioc', 'fok', 'post_only'),
      type: fc.constantFrom<OrderType>('limit', 'limit', 'limit', 'market', 'stop_limit'),
      stp: fc.constantFrom<StpMode>('cancel_resting', 'cancel_taking', 'cancel_both'),
      gtb: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), t: fc.nat(TRADERS - 1), pick: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), t: fc.nat(TRADERS - 1), pick: fc.nat(50), off: fc.integer({ min: -3, max: 3 }), lots: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('block' as const), move: fc.integer({ min: -200, max: 200 }) }) },
);

interface Ledger {
  size: Map<string, bigint>;
  filled: Map<string, bigint>;
  closedRest: Map<string, bigint>;
}

function runTx(h: ModuleHarness, fn: Parameters<ModuleHarness['run']>[0]): void {
  const b = new Branch(h.state);
  const journal = new Journal();
  const ctx = { ...h.ctx(b), journal };
  const mark = h.events.events.length;
  try {
    fn(ctx);
    h.state.apply(b.changeSet());
  } catch (e) {
    journal.revert();
    h.events.events.length = mark;
    if (!(e instanceof ChainError)) throw e;
  }
}

function apply(h: ModuleHarness, o: any, cid: { n: number }): void {
  const k = h.keepers;
  const price = k.prices.price(h.state, 0);
  const tick = 100_000n;
  if (o.kind === 'place') {
    const px = (price / tick + BigInt(o.off)) * tick;
    runTx(h, (ctx) =>
      k.clob.placeOrder(ctx, {
        owner: owner(o.t),
        number: 0,
        marketId: 0,
        clientId: cid.n++,
        side: o.side,
        type: o.type,
        tif: o.type === 'market' ? 'ioc' : o.tif,
        price: o.type === 'market' ? 0n : px,
        quantity: BigInt(o.lots) * 1_000_000n,
        reduceOnly: false,
        goodTilBlock: o.gtb && o.type !== 'market' && o.tif !== 'ioc' && o.tif !== 'fok' ? h.height + BigInt(o.gtb) : 0n,
        goodTilTime: 0n,
        stp: o.stp,
        triggerPrice: o.type === 'stop_limit' ? px : 0n,
      }),
    );
  } else if (o.kind === 'cancel' || o.kind === 'amend') {
    const open = k.clob.openOrders(owner(o.t), 0);
    if (!open.length) return;
    const id = open[o.pick % open.length]!;
    if (o.kind === 'cancel') runTx(h, (ctx) => k.clob.cancel(ctx, owner(o.t), 0, { orderId: id, clientId: 0, byClientId: false }));
    else runTx(h, (ctx) => k.clob.amend(ctx, owner(o.t), 0, { orderId: id, clientId: 0, byClientId: false }, (price / tick + BigInt(o.off)) * tick, BigInt(o.lots) * 1_000_000n));
  } else {
    h.run((ctx) => k.prices.applyPrice(ctx, 0, (price * BigInt(10_000 + o.move)) / 10_000n));
    h.run((ctx) => h.modules.forEach((m) => m.beginBlock?.({ ...ctx, mode: 'begin_block' })));
    h.timeSec += 1n;
    h.endBlock();
  }
}

function ledger(h: ModuleHarness): Ledger {
  const l: Ledger = { size: new Map(), filled: new Map(), closedRest: new Map() };
  for (const e of h.events.events) {
    const a = Object.fromEntries(e.attributes.map((x) => [x.key, x.value]));
    if (e.type === 'clob.order_placed') l.size.set(a.order_id!, BigInt(a.quantity!));
    if (e.type === 'clob.order_amended') l.size.set(a.order_id!, (l.filled.get(a.order_id!) ?? 0n) + BigInt(a.remaining!));
    if (e.type === 'clob.fill') {
      for (const id of [a.maker_order_id!, a.taker_order_id!]) l.filled.set(id, (l.filled.get(id) ?? 0n) + BigInt(a.size!));
    }
    if (e.type === 'clob.order_cancelled') l.closedRest.set(a.order_id!, BigInt(a.remaining!));
  }
  return l;
}

describe('random order streams', () => {
  it('keep the book uncrossed, consistent with the store, conserving and accounted per order; two keepers agree', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 120 }), (ops) => {
        const x = harness();
        const y = harness();
        const cx = { n: 1 };
        const cy = { n: 1 };
        for (const o of ops) {
          apply(x, o, cx);
          apply(y, o, cy);
          if (o.kind === 'block') expect(x.invariants()).toEqual([]);
        }
        apply(x, { kind: 'block', move: 0 }, cx);
        apply(y, { kind: 'block', move: 0 }, cy);
        expect(x.invariants()).toEqual([]);
        // identical state and books
        expect([...y.state.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')])).toEqual([...x.state.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
        expect(y.keepers.clob.engine(0)?.dump()).toEqual(x.keepers.clob.engine(0)?.dump());
        // per order: filled + (open remaining | cancelled remaining) = size
        const l = ledger(x);
        for (const [id, size] of l.size) {
          const open = x.keepers.clob.getOrder(x.state, BigInt(id));
          const filled = l.filled.get(id) ?? 0n;
          const rest = open ? open.quantity - open.filled : (l.closedRest.get(id) ?? 0n);
          expect(filled + rest, `order ${id}`).toBe(size);
          expect(filled >= 0n && rest >= 0n).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
