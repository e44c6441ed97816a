/**
 * The action world of the property tests (properties.test.ts): arbitrary
 * actions (fast-check) turned into signed txs on an App F, each block
 * mirrored on a twin App R with what must remain of it (the same tx when it
 * succeeded, a fee-only twin when its messages failed, nothing when it failed
 * its ante handler), and checked against every invariant.
 */
import fc from 'fast-check';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { App } from '../../../chain/app.js';
import type { FinalizeBlockRequest } from '../../../chain/types.js';
import type { TestKey } from '../../helpers/keys.js';
import { buildTx } from '../../helpers/rawtx.js';
import { allInvariantProblems } from './ledger.js';
import { OrdersLedger } from './orders-ledger.js';
import { Traffic, amendAny, cancelAny, depositAny, placeAny, pricesAny, sendAny, transferAny, withdrawAny } from './traffic.js';
import { hex } from './wire.js';

export type Action =
  | { k: 'deposit'; who: number; n: number; usd: number }
  | { k: 'withdraw'; who: number; n: number; usd: number }
  | { k: 'transfer'; who: number; to: number; n: number; usd: number }
  | { k: 'send'; who: number; to: number; usd: number }
  | { k: 'place'; who: number; n: number; market: number; side: 'buy' | 'sell'; type: 'limit' | 'market' | 'stop_limit' | 'stop_market' | 'take_profit_limit' | 'take_profit_market'; tif: 'gtc' | 'ioc' | 'fok' | 'post_only'; ticks: number; steps: number; reduceOnly: boolean; trigger: number; gtb: number }
  | { k: 'cancel'; who: number; n: number; pick: number; byClient: boolean }
  | { k: 'amend'; who: number; n: number; pick: number; ticks: number; steps: number }
  | { k: 'take'; who: number; n: number; market: number; side: 'buy' | 'sell'; steps: number; fok: boolean }
  | { k: 'price'; market: number; ppm: number }
  | { k: 'quote'; who: number; n: number; market: number; ticks: number; steps: number }
  | { k: 'time'; seconds: number; report: boolean };

const who = fc.integer({ min: 0, max: 5 });
const sub = fc.integer({ min: 0, max: 1 });
export const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('deposit' as const), who, n: sub, usd: fc.integer({ min: 1, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('withdraw' as const), who, n: sub, usd: fc.integer({ min: 1, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('transfer' as const), who, to: who, n: sub, usd: fc.integer({ min: 1, max: 50_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('send' as const), who, to: who, usd: fc.integer({ min: 0, max: 1_000_000 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('place' as const),
      who,
      n: sub,
      market: fc.integer({ min: 0, max: 3 }).map((x) => (x === 3 ? 1 : 0)),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      type: fc.constantFrom('limit' as const, 'limit' as const, 'limit' as const, 'limit' as const, 'market' as const, 'market' as const, 'stop_limit' as const, 'stop_market' as const, 'take_profit_limit' as const, 'take_profit_market' as const),
      tif: fc.constantFrom('gtc' as const, 'gtc' as const, 'gtc' as const, 'ioc' as const, 'fok' as const, 'post_only' as const),
      ticks: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -300, max: 300 })),
      steps: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 60_000 })),
      reduceOnly: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
      trigger: fc.integer({ min: -500, max: 500 }),
      gtb: fc.integer({ min: 0, max: 6 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('take' as const), who, n: sub, market: fc.integer({ min: 0, max: 3 }).map((x) => (x === 3 ? 1 : 0)), side: fc.constantFrom('buy' as const, 'sell' as const), steps: fc.integer({ min: 0, max: 20_000 }), fok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cancel' as const), who, n: sub, pick: fc.nat(50), byClient: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('amend' as const), who, n: sub, pick: fc.nat(50), ticks: fc.integer({ min: -50, max: 50 }), steps: fc.integer({ min: 0, max: 20_000 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('price' as const), market: fc.integer({ min: 0, max: 1 }), ppm: fc.oneof(fc.integer({ min: -20_000, max: 20_000 }), fc.integer({ min: -600_000, max: 600_000 })) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('quote' as const), who, n: sub, market: fc.integer({ min: 0, max: 3 }).map((x) => (x === 3 ? 1 : 0)), ticks: fc.integer({ min: 0, max: 20 }), steps: fc.integer({ min: 0, max: 10_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('time' as const), seconds: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 600, max: 7_200 })), report: fc.boolean() }) },
);

const TICK = [100_000n, 10_000n];
const STEP = [100_000n, 1_000_000n];

export class World {
  readonly t = new Traffic({ seed: 5, traders: 6, degens: 0, makers: 0 });
  readonly F = App.open();
  readonly R = App.open();
  readonly ledger = new OrdersLedger();
  static ok = 0;
  static failed = 0;
  static events = new Map<string, number>();
  timeNs: bigint;
  private cid = 1;

  constructor() {
    const init = this.t.initChain();
    this.F.initChain(init);
    this.R.initChain(init);
    this.timeNs = init.timeNs;
    this.block([]);
  }

  private key(i: number): TestKey {
    return this.t.traders[i % this.t.traders.length]!;
  }

  private sign(k: TestKey, msgs: Any[], seqs: Map<string, bigint>, gas = 600_000n): Uint8Array {
    const a = this.F.keepers.auth.getAccount(this.F.state, k.address);
    const seq = seqs.get(k.address) ?? a?.sequence ?? 0n;
    seqs.set(k.address, seq + 1n);
    return buildTx({ messages: msgs, signers: [{ key: k, sequence: seq }], chainId: this.t.chainId, accountNumber: a?.accountNumber ?? 0n, gas }).bytes;
  }

  tx(a: Action, seqs: Map<string, bigint>): Uint8Array {
    const F = this.F;
    const usd = (x: number) => BigInt(x) * 1_000_000n;
    switch (a.k) {
      case 'deposit':
        return this.sign(this.key(a.who), [depositAny(this.key(a.who).address, a.n, usd(a.usd))], seqs);
      case 'withdraw':
        return this.sign(this.key(a.who), [withdrawAny(this.key(a.who).address, a.n, usd(a.usd), '')], seqs);
      case 'transfer':
        return this.sign(this.key(a.who), [transferAny(this.key(a.who).address, a.n, this.key(a.to).address, 1 - a.n, usd(a.usd))], seqs);
      case 'send':
        return this.sign(this.key(a.who), [sendAny(this.key(a.who).address, this.key(a.to).address, usd(a.usd))], seqs);
      case 'place': {
        const k = this.key(a.who);
        const p = F.keepers.prices.price(F.state, a.market);
        const tick = TICK[a.market]!;
        const px = ((p + BigInt(a.ticks) * tick * 10n) / tick) * tick;
        const conditional = a.type.startsWith('stop') || a.type.startsWith('take');
        const trig = ((p + BigInt(a.trigger) * tick * 10n) / tick) * tick;
        const market = a.type.endsWith('market');
        return this.sign(k, [
          placeAny(k.address, {
            number: a.n,
            market: a.market,
            clientId: this.cid++,
            side: a.side,
            type: a.type,
            tif: market ? 'ioc' : a.tif,
            price: market ? 0n : px > 0n ? px : tick,
            size: BigInt(a.steps + 1) * STEP[a.market]!,
            reduceOnly: a.reduceOnly,
            trigger: conditional ? (trig > 0n ? trig : tick) : 0n,
            gtb: a.gtb > 0 && !market && a.tif !== 'ioc' && a.tif !== 'fok' ? F.height + BigInt(a.gtb) : 0n,
          }),
        ], seqs);
      }
      case 'take': {
        // a limit IOC/FOK at the best opposite price: fills whenever something rests there
        const k = this.key(a.who);
        const lv = F.keepers.clob.levels(a.market, 1);
        const best = a.side === 'buy' ? lv.asks[0]?.[0] : lv.bids[0]?.[0];
        const px = best ?? F.keepers.prices.price(F.state, a.market);
        return this.sign(k, [placeAny(k.address, { number: a.n, market: a.market, clientId: this.cid++, side: a.side, price: (px / TICK[a.market]!) * TICK[a.market]!, size: BigInt(a.steps + 1) * STEP[a.market]!, tif: a.fok ? 'fok' : 'ioc' })], seqs);
      }
      case 'cancel':
      case 'amend': {
        const k = this.key(a.who);
        const ids = F.keepers.clob.openOrders(k.address, a.n);
        const id = ids.length ? ids[a.pick % ids.length]! : BigInt(a.pick + 1);
        const o = F.keepers.clob.getOrder(F.state, id);
        if (a.k === 'cancel') return this.sign(k, [cancelAny(k.address, a.n, a.byClient && o ? { clientId: o.clientId } : { orderId: id })], seqs);
        const tick = TICK[o?.marketId ?? 0]!;
        return this.sign(k, [amendAny(k.address, a.n, { orderId: id }, o ? o.price + BigInt(a.ticks) * tick : 0n, BigInt(a.steps + 1) * STEP[o?.marketId ?? 0]!)], seqs);
      }
      case 'price': {
        const p = F.keepers.prices.price(F.state, a.market);
        const next = (p * BigInt(1_000_000 + a.ppm)) / 1_000_000n;
        return this.sign(this.t.feeder, [pricesAny(this.t.feeder.address, [[a.market, next > 0n ? next : 1n]])], seqs);
      }
      case 'quote': {
        // two-sided post-only quotes around the oracle: liquidity for the takers
        const k = this.key(a.who);
        const p = F.keepers.prices.price(F.state, a.market);
        const tick = TICK[a.market]!;
        const off = BigInt(a.ticks + 1) * tick;
        const size = BigInt(a.steps + 1) * STEP[a.market]!;
        return this.sign(k, [
          placeAny(k.address, { number: a.n, market: a.market, clientId: this.cid++, side: 'buy', price: ((p - off) / tick) * tick, size, tif: 'post_only' }),
          placeAny(k.address, { number: a.n, market: a.market, clientId: this.cid++, side: 'sell', price: ((p + off) / tick) * tick, size, tif: 'post_only' }),
        ], seqs);
      }
      case 'time':
        this.timeNs += BigInt(a.seconds) * 1_000_000_000n;
        // with a report in the same block the oracle stays fresh; without, it goes stale past 60 s
        if (!a.report) return new Uint8Array();
        return this.sign(this.t.feeder, [pricesAny(this.t.feeder.address, [[0, F.keepers.prices.price(F.state, 0)], [1, F.keepers.prices.price(F.state, 1)]])], seqs);
    }
  }

  /** One block on F and its twin on R; returns the problems found. */
  block(actions: Action[]): string[] {
    const seqs = new Map<string, bigint>();
    const txs = actions.map((a) => this.tx(a, seqs)).filter((t) => t.length > 0);
    this.timeNs += 1_000_000_000n;
    const req: FinalizeBlockRequest = { txs, height: this.F.height + 1n, timeNs: this.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) };
    const rf = this.F.finalizeBlock(req);
    this.F.commit();
    for (const r of rf.txResults) {
      if (r.code === 0) World.ok++;
      else {
        World.failed++;
        World.events.set(`code ${r.codespace}/${r.code}`, (World.events.get(`code ${r.codespace}/${r.code}`) ?? 0) + 1);
      }
    }
    for (const e of [...rf.events, ...rf.txResults.flatMap((r) => r.events)]) World.events.set(e.type, (World.events.get(e.type) ?? 0) + 1);
    const twins: Uint8Array[] = [];
    rf.txResults.forEach((r, i) => {
      if (r.code === 0) return void twins.push(txs[i]!);
      const ev = r.events.find((e) => e.type === 'tx');
      if (!ev) return;
      const at = Object.fromEntries(ev.attributes.map((x) => [x.key, x.value]));
      const k = this.t.all.find((x) => x.address === at.signer)!;
      const acct = this.R.keepers.auth.getAccount(this.R.state, k.address);
      twins.push(buildTx({ messages: [sendAny(k.address, k.address, 1n)], signers: [{ key: k, sequence: BigInt(at.sequence!) }], chainId: this.t.chainId, accountNumber: acct?.accountNumber ?? 0n, gas: BigInt(at.fee!) * 1000n, fee: [{ denom: 'uusdc', amount: at.fee! }] }).bytes);
    });
    const rr = this.R.finalizeBlock({ ...req, txs: twins });
    this.R.commit();
    const problems = [...allInvariantProblems(this.F), ...this.ledger.block(rf)];
    if (hex(rf.appHash) !== hex(rr.appHash)) problems.push(`failed txs left more than fee and sequence: F ${hex(rf.appHash)} vs twin ${hex(rr.appHash)} (results ${rf.txResults.map((x) => `${x.codespace}/${x.code}`).join(' ')})`);
    return problems;
  }
}

