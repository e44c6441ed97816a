/**
 * The reliability traffic generator: a seeded function that produces blocks
 * of signed transactions across every module, from a fixed set of TestKeys,
 * the same blocks for every App instance that consumes them.
 *
 *   const t = new Traffic({ seed: 1 });
 *   app.initChain(t.initChain());
 *   for (;;) { const req = t.next(ref); ...feed req to every instance...; }
 *
 * `next(ref)` reads what it needs (sequences, account numbers, oracle prices,
 * positions, open orders) from the committed state of a reference App `ref`
 * and keeps a local model of sequences through the block (a tx that fails
 * its ante handler does not use a sequence; one whose messages fail does).
 * The blocks are therefore a deterministic function of (seed, the chain so
 * far): rerunning with the same seed gives byte-identical blocks.
 *
 * What the traffic contains (weights below):
 *   - bank sends, deposits, withdrawals, subaccount transfers;
 *   - every order type: limit GTC / GTB / GTT, IOC, FOK, post-only, market,
 *     reduce-only, stop and take-profit (limit and market), self-trades with
 *     each STP mode, amends, cancels by id and by client id, batches;
 *   - oracle prices through MsgUpdatePrices from the registered feeder: a
 *     random walk, clamp probes (exactly max_move, just above it), and crash
 *     regimes (reports 20–40% away from the price for several blocks, which
 *     the chain clamps to 10% a block) preceded by makers pulling their bids
 *     so leveraged accounts are liquidated through an empty book, the small
 *     insurance fund runs dry, and auto-deleveraging and bad debt happen;
 *   - funding ticks: block time usually advances 1–3 s and now and then jumps
 *     10–40 minutes, crossing the hourly funding boundary (sometimes without
 *     a price report, so the oracle goes stale and risk-increasing orders are
 *     refused until the next report);
 *   - the market authority now and then flips a market to reduce-only and
 *     back, and changes liquidation params; outsiders try the same (refused);
 *   - invalid but valid-looking txs: bad signatures, wrong sequences, wrong
 *     chain id, low fees, garbage bytes, duplicates, orders off the tick or
 *     step grid, below the minimum size, in unknown markets, over-margin,
 *     duplicate client ids, reduce-only orders that would increase, cancels
 *     of unknown orders, withdrawals over the free collateral, sends to
 *     module accounts, prices from a non-feeder, zero prices, a market twice.
 */
import { Any } from 'cosmjs-types/google/protobuf/any';
import Long from 'long';
import type { App } from '../../../chain/app.js';
import { moduleAddress } from '../../../chain/codec/address.js';
import { marketsAppState } from '../../../chain/devnet/markets.js';
import type { FinalizeBlockRequest, InitChainRequest } from '../../../chain/types.js';
import { marketToProto } from '../../../modules/perpetuals/index.js';
import { perpchain } from '../../../proto/gen/perpchain.js';
import { GENESIS_TIME_NS } from '../../helpers/chain.js';
import { TestKey } from '../../helpers/keys.js';
import { buildTx, signatureOf, withSignature } from '../../helpers/rawtx.js';
import { Rng } from '../../helpers/rng.js';

export const RELIABILITY_CHAIN_ID = 'perpchain-reliability-1';
export const INSURANCE_FUND = moduleAddress('insurance_fund');
export const FEE_COLLECTOR = moduleAddress('fee_collector');

const PB = perpchain;
const SIDE = { buy: PB.clob.v1.Side.SIDE_BUY, sell: PB.clob.v1.Side.SIDE_SELL } as const;
const TYPE = {
  limit: PB.clob.v1.OrderType.ORDER_TYPE_LIMIT,
  market: PB.clob.v1.OrderType.ORDER_TYPE_MARKET,
  stop_limit: PB.clob.v1.OrderType.ORDER_TYPE_STOP_LIMIT,
  stop_market: PB.clob.v1.OrderType.ORDER_TYPE_STOP_MARKET,
  take_profit_limit: PB.clob.v1.OrderType.ORDER_TYPE_TAKE_PROFIT_LIMIT,
  take_profit_market: PB.clob.v1.OrderType.ORDER_TYPE_TAKE_PROFIT_MARKET,
} as const;
const TIF = { gtc: 0, ioc: 1, fok: 2, post_only: 3 } as const;
const STP = { cancel_resting: 0, cancel_taking: 1, cancel_both: 2 } as const;

const U = (v: bigint | number): Long => Long.fromString(BigInt(v).toString(), true);
const S64 = (v: bigint | number): Long => Long.fromString(BigInt(v).toString(), false);

function any<T>(typeUrl: string, type: { encode(m: T): { finish(): Uint8Array } }, value: T): Any {
  return Any.fromPartial({ typeUrl, value: type.encode(value).finish() });
}

/** Market constants (devnet markets): BTC-USD id 0, ETH-USD id 1. */
interface MarketSpec {
  id: number;
  tick: bigint;
  step: bigint;
  minSize: bigint;
  /** Typical trade size (base quantums). */
  lot: bigint;
}
const MARKETS: MarketSpec[] = [
  { id: 0, tick: 100_000n, step: 100_000n, minSize: 100_000n, lot: 500_000_000n /* 0.05 BTC */ },
  { id: 1, tick: 10_000n, step: 1_000_000n, minSize: 1_000_000n, lot: 1_000_000_000n /* 1 ETH */ },
];

export type Kind =
  | 'price'
  | 'price_clamp_probe'
  | 'send'
  | 'deposit'
  | 'withdraw'
  | 'transfer'
  | 'maker_ladder'
  | 'maker_pull'
  | 'sweep'
  | 'limit'
  | 'ioc'
  | 'fok'
  | 'post_only'
  | 'market'
  | 'reduce_only'
  | 'conditional'
  | 'self_trade'
  | 'amend'
  | 'cancel'
  | 'batch'
  | 'degen_open'
  | 'authority'
  | 'bad_sig'
  | 'wrong_seq'
  | 'wrong_chain'
  | 'low_fee'
  | 'garbage'
  | 'duplicate'
  | 'bad_order'
  | 'bad_cancel'
  | 'bad_withdraw'
  | 'bad_send'
  | 'bad_price'
  | 'unauthorized';

const WEIGHTS: Array<[Kind, number]> = [
  ['send', 4],
  ['deposit', 4],
  ['withdraw', 3],
  ['transfer', 2],
  ['limit', 10],
  ['ioc', 4],
  ['fok', 2],
  ['post_only', 4],
  ['market', 6],
  ['reduce_only', 3],
  ['conditional', 4],
  ['self_trade', 1],
  ['amend', 3],
  ['cancel', 5],
  ['batch', 2],
  ['degen_open', 4],
  ['bad_sig', 1.5],
  ['wrong_seq', 1.5],
  ['wrong_chain', 0.5],
  ['low_fee', 0.5],
  ['garbage', 1],
  ['duplicate', 1],
  ['bad_order', 3],
  ['bad_cancel', 1],
  ['bad_withdraw', 1],
  ['bad_send', 0.7],
  ['bad_price', 0.7],
  ['unauthorized', 0.3],
];

export interface TrafficOptions {
  seed: number;
  /** Ordinary traders (default 16). */
  traders?: number;
  /** Highly leveraged accounts that get liquidated (default 6). */
  degens?: number;
  /** Market makers (default 3). */
  makers?: number;
  /** Mean user txs per block besides the price and maker txs (default 10). */
  txsPerBlock?: number;
  /** Insurance fund at genesis, uusdc (default $500). */
  insuranceFund?: bigint;
  chainId?: string;
}

export interface Role {
  key: TestKey;
  role: 'authority' | 'feeder' | 'maker' | 'trader' | 'degen';
}

interface Crash {
  market: number;
  dir: 1 | -1;
  /** Blocks before the crash reports start, in which every maker pulls its quotes on the crash side. */
  warmup: number;
  /** Blocks left with crash reports. */
  left: number;
  /** Blocks to keep the makers' side pulled after the crash. */
  recover: number;
}

/** What a signer knows at the start of a block (from the reference App). */
interface AccountView {
  number: bigint;
  sequence: bigint;
}

export class Traffic {
  readonly rng: Rng;
  readonly chainId: string;
  readonly authority: TestKey;
  readonly feeder: TestKey;
  readonly makers: TestKey[];
  readonly traders: TestKey[];
  readonly degens: TestKey[];
  readonly all: TestKey[];
  readonly appState: Record<string, unknown>;
  /** Count of generated txs by kind (what was sent, not what succeeded). */
  readonly kinds = new Map<Kind, number>();
  timeNs = GENESIS_TIME_NS;
  height = 0n;
  private readonly total: number;
  private readonly clientIds = new Map<string, number>();
  private crash: Crash | undefined;
  private reduceOnlyUntil = 0n;
  private lastTxs: Uint8Array[] = [];
  private readonly meanTxs: number;

  constructor(readonly o: TrafficOptions) {
    this.rng = new Rng(o.seed);
    this.chainId = o.chainId ?? RELIABILITY_CHAIN_ID;
    this.authority = new TestKey('rel-authority');
    this.feeder = new TestKey('rel-feeder');
    this.makers = Array.from({ length: o.makers ?? 3 }, (_, i) => new TestKey(`rel-maker-${i}`));
    this.traders = Array.from({ length: o.traders ?? 16 }, (_, i) => new TestKey(`rel-trader-${i}`));
    this.degens = Array.from({ length: o.degens ?? 6 }, (_, i) => new TestKey(`rel-degen-${i}`));
    this.all = [this.authority, this.feeder, ...this.makers, ...this.traders, ...this.degens];
    this.meanTxs = o.txsPerBlock ?? 10;
    this.total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    const bal = (k: TestKey, usd: bigint) => ({ address: k.address, amount: (usd * 1_000_000n).toString() });
    const ms = marketsAppState(this.authority.address, [this.feeder.address]);
    this.appState = {
      bank: {
        balances: [
          bal(this.authority, 1_000_000n),
          bal(this.feeder, 100_000n),
          ...this.makers.map((k) => bal(k, 50_000_000n)),
          ...this.traders.map((k) => bal(k, 500_000n)),
          ...this.degens.map((k) => bal(k, 200_000n)),
          { address: INSURANCE_FUND, amount: (o.insuranceFund ?? 500_000_000n).toString() },
        ],
      },
      ...ms,
      liquidation: { params: { min_liquidation_notional: '2000000000' } },
    };
  }

  initChain(): InitChainRequest {
    return { chainId: this.chainId, timeNs: GENESIS_TIME_NS, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(this.appState)) };
  }

  private count(k: Kind): void {
    this.kinds.set(k, (this.kinds.get(k) ?? 0) + 1);
  }

  private kind(): Kind {
    let x = this.rng.float() * this.total;
    for (const [k, w] of WEIGHTS) {
      if (x < w) return k;
      x -= w;
    }
    return 'limit';
  }

  private nextClientId(k: TestKey, n = 0): number {
    const key = `${k.address}/${n}`;
    const v = (this.clientIds.get(key) ?? 0) + 1;
    this.clientIds.set(key, v);
    return v;
  }

  /** The next block's FinalizeBlock request, given the reference App's committed state. */
  next(ref: App): FinalizeBlockRequest {
    const rng = this.rng;
    this.height = ref.height + 1n;
    const h = this.height;
    // Block time: 1–3 s, now and then a jump of 10–40 minutes (funding ticks, staleness).
    const jump = h > 5n && rng.chance(1 / 35);
    this.timeNs += jump ? BigInt(rng.range(600, 2_400)) * 1_000_000_000n : BigInt(rng.range(1, 3)) * 1_000_000_000n;
    this.timeNs += BigInt(rng.int(1_000_000_000));
    const req: FinalizeBlockRequest = { txs: [], height: h, timeNs: this.timeNs, hash: rng.bytes(32), proposerAddress: new Uint8Array(20).fill(7) };
    if (h === 1n) return req;

    const b = new BlockBuilder(this, ref);
    const txs: Uint8Array[] = [];

    // 1. Oracle: the feeder reports most blocks (not always after a time jump: staleness).
    if ((this.crash && this.crash.warmup === 0 && this.crash.left > 0) || rng.chance(jump ? 0.5 : 0.9)) txs.push(this.priceTx(b));
    // 2. Market makers keep ladders; before a crash every one of them pulls the side it will hit.
    const pulling = this.crash !== undefined && this.crash.warmup > 0;
    for (const m of this.makers) if (pulling || rng.chance(0.35)) txs.push(...this.makerTxs(b, m));
    if (pulling) this.crash!.warmup--;
    // 2b. A crash block: an arbitrageur sweeps the stale quotes the crash will leave behind (the bids
    //     above the new price, or asks below it) before the oracle moves at the end of the block, so
    //     liquidations meet a thin book: stub quotes, insurance payouts, a fund that runs dry, ADL.
    if (this.crash && this.crash.warmup === 0 && this.crash.left > 0) {
      const sweep = this.sweepTx(b);
      if (sweep) txs.push(sweep);
    }
    // 3. Occasional authority action; a reduce-only spell ends after a few blocks.
    const ethStatus = ref.keepers.perpetuals.market(ref.state, 1).status;
    if (ethStatus !== 'active' && h >= this.reduceOnlyUntil) txs.push(this.setEthStatus(b, 'active'));
    else if (rng.chance(1 / 40)) txs.push(this.authorityTx(b, ethStatus));
    // 4. Users.
    const n = rng.chance(0.04) ? rng.range(40, 90) : rng.range(0, this.meanTxs * 2);
    for (let i = 0; i < n; i++) {
      const t = this.userTx(b, txs);
      if (t) txs.push(t);
    }
    req.txs = txs;
    this.lastTxs = txs;
    return req;
  }

  // ------------------------------------------------------------------ oracle

  private priceTx(b: BlockBuilder): Uint8Array {
    const rng = this.rng;
    const reports: Array<[number, bigint]> = [];
    if (!this.crash && this.height > 20n && rng.chance(1 / 35)) {
      this.crash = { market: rng.chance(0.7) ? 0 : 1, dir: rng.chance(0.6) ? -1 : 1, warmup: rng.chance(0.7) ? 1 : 0, left: rng.range(2, 4), recover: rng.range(2, 6) };
    }
    const crashing = this.crash !== undefined && this.crash.warmup === 0;
    let probe = false;
    for (const m of MARKETS) {
      const p = b.price(m.id);
      let next: bigint;
      if (crashing && this.crash && this.crash.market === m.id && this.crash.left > 0) {
        // 20–40% away: the chain clamps it to max_move (10%) per block.
        const move = BigInt(rng.range(200_000, 400_000));
        next = this.crash.dir < 0 ? (p * (1_000_000n - move)) / 1_000_000n : (p * (1_000_000n + move)) / 1_000_000n;
      } else if (rng.chance(0.03)) {
        // Probe the clamp: exactly max_move or just over it.
        probe = true;
        const move = rng.chance(0.5) ? 100_000n : 100_001n + BigInt(rng.int(5_000));
        next = rng.chance(0.5) ? (p * (1_000_000n + move)) / 1_000_000n : (p * (1_000_000n - move)) / 1_000_000n;
      } else {
        // Random walk, ±0.5%, pulled back toward the starting price when it has wandered off by half.
        const home = m.id === 0 ? 6_500_000_000n : 3_000_000_000n;
        const drift = p * 2n > home * 3n ? -2_500 : p * 3n < home * 2n ? 2_500 : 0;
        const move = BigInt(rng.range(-5_000, 5_000) + drift);
        next = (p * (1_000_000n + move)) / 1_000_000n;
      }
      if (next < 1n) next = 1n;
      const crashMarket = crashing && this.crash?.market === m.id;
      if (crashMarket || rng.chance(0.9)) reports.push([m.id, next]);
    }
    if (this.crash && crashing) {
      if (this.crash.left > 0) this.crash.left--;
      else if (--this.crash.recover <= 0) this.crash = undefined;
    }
    this.count(probe ? 'price_clamp_probe' : 'price');
    if (reports.length === 0) reports.push([0, b.price(0)]);
    return b.sign(this.feeder, [pricesAny(this.feeder.address, reports)]);
  }

  // ------------------------------------------------------------------ makers

  private makerTxs(b: BlockBuilder, k: TestKey): Uint8Array[] {
    const rng = this.rng;
    const out: Uint8Array[] = [];
    if (b.collateral(k, 0) < 5_000_000_000_000n) {
      out.push(b.sign(k, [depositAny(k.address, 0, 10_000_000_000_000n)]));
      this.count('deposit');
    }
    const pulledSide = this.crash ? (this.crash.dir < 0 ? 'buy' : 'sell') : undefined;
    const pulledMarket = this.crash?.market;
    let msgs: Any[] = [];
    // Pull: cancel every resting order on the side the crash will hit.
    if (pulledSide !== undefined) {
      for (const o of b.openOrders(k, 0)) if (o.marketId === pulledMarket && o.side === pulledSide) msgs.push(cancelAny(k.address, 0, { orderId: o.id }));
      if (msgs.length) this.count('maker_pull');
      // ...leaving only a deep stub quote 6–13% away: liquidations that reach it fill far past the
      // bankruptcy price, the insurance fund pays the difference until it runs dry, then ADL takes over
      if (pulledMarket !== undefined && rng.chance(0.8)) {
        const m = MARKETS[pulledMarket]!;
        const p = b.price(m.id);
        const away = BigInt(rng.range(60_000, 130_000));
        const price = roundTick(pulledSide === 'buy' ? (p * (1_000_000n - away)) / 1_000_000n : (p * (1_000_000n + away)) / 1_000_000n, m.tick);
        if (price > 0n) msgs.push(placeAny(k.address, { market: m.id, clientId: this.nextClientId(k), side: pulledSide, price, size: roundStep(m.lot * BigInt(rng.range(10, 40)), m.step), gtb: this.height + BigInt(rng.range(5, 15)) }));
      }
    }
    if (msgs.length) {
      out.push(b.sign(k, msgs, 250_000n * BigInt(msgs.length) + 200_000n));
      msgs = [];
    }
    const open = b.openOrders(k, 0).length;
    if (open < 50) {
      for (const m of MARKETS) {
        msgs = [];
        const p = b.price(m.id);
        for (const side of ['buy', 'sell'] as const) {
          if (m.id === pulledMarket && side === pulledSide) continue;
          const levels = rng.range(1, 3);
          for (let i = 0; i < levels; i++) {
            const off = BigInt(rng.range(1, 60)) * m.tick * (m.id === 0 ? 5n : 10n);
            const price = roundTick(side === 'buy' ? p - off : p + off, m.tick);
            if (price <= 0n) continue;
            const size = roundStep(m.lot * BigInt(rng.range(1, 12)), m.step);
            const expiry = rng.int(3);
            msgs.push(
              placeAny(k.address, {
                market: m.id,
                clientId: this.nextClientId(k),
                side,
                price,
                size,
                tif: rng.chance(0.3) ? 'post_only' : 'gtc',
                gtb: expiry === 0 ? this.height + BigInt(rng.range(3, 40)) : 0n,
                gtt: expiry === 1 ? this.timeNs / 1_000_000_000n + BigInt(rng.range(20, 200)) : 0n,
                ...(expiry === 2 ? { gtb: this.height + BigInt(rng.range(40, 80)) } : {}),
              }),
            );
          }
        }
        // one tx per market (a batch is atomic: a reduce-only or stale market must not sink the other's quotes)
        if (msgs.length) {
          out.push(b.sign(k, msgs, 400_000n * BigInt(msgs.length) + 200_000n));
          this.count('maker_ladder');
        }
      }
    }
    return out;
  }

  private sweepTx(b: BlockBuilder): Uint8Array | undefined {
    const c = this.crash!;
    const m = MARKETS[c.market]!;
    const p = b.price(m.id);
    const target = roundTick(c.dir < 0 ? (p * 900_000n) / 1_000_000n : (p * 1_100_000n) / 1_000_000n + m.tick, m.tick);
    const lv = b.app.keepers.clob.levels(m.id, 60);
    const levels = c.dir < 0 ? lv.bids.filter(([px]) => px >= target) : lv.asks.filter(([px]) => px <= target);
    const size = levels.reduce((t, [, q]) => t + q, 0n);
    if (size <= 0n) return undefined;
    const arb = this.makers[0]!;
    this.count('sweep');
    return b.sign(arb, [placeAny(arb.address, { market: m.id, clientId: this.nextClientId(arb), side: c.dir < 0 ? 'sell' : 'buy', price: target, size, tif: 'ioc', stp: 'cancel_resting' })], 1_000_000n + 200_000n * BigInt(levels.length));
  }

  // --------------------------------------------------------------- authority

  private setEthStatus(b: BlockBuilder, status: 'active' | 'reduce_only'): Uint8Array {
    this.count('authority');
    const a = this.authority;
    const m = b.app.keepers.perpetuals.market(b.app.state, 1);
    return b.sign(a, [any('/perpchain.perpetuals.v1.MsgUpdateMarket', PB.perpetuals.v1.MsgUpdateMarket, { authority: a.address, market: marketToProto({ ...m, status }) })]);
  }

  private authorityTx(b: BlockBuilder, ethStatus: string): Uint8Array {
    const rng = this.rng;
    const a = this.authority;
    if (ethStatus === 'active' && rng.chance(0.4)) {
      // ETH-USD reduce-only for a few blocks (then back to active, above).
      this.reduceOnlyUntil = this.height + BigInt(rng.range(3, 8));
      return this.setEthStatus(b, 'reduce_only');
    }
    this.count('authority');
    // Liquidation params: vary how much of a position a block may close.
    const fraction = rng.pick([100_000, 200_000, 500_000, 1_000_000]);
    return b.sign(a, [
      any('/perpchain.liquidation.v1.MsgUpdateParams', PB.liquidation.v1.MsgUpdateParams, {
        authority: a.address,
        params: {
          liquidationFeePpm: 15_000,
          spreadToMmfPpm: 1_500_000,
          positionFractionPpm: fraction,
          minLiquidationNotional: '2000000000',
          maxLiquidationsPerBlock: rng.pick([3, 50]),
          maxAdlFillsPerBlock: rng.pick([1, 20]),
          // few candidates: the ranked list runs out, the rest closes at the oracle, shortfalls reach the fund and bad debt
          maxAdlCandidates: rng.pick([1, 2, 500]),
        },
      }),
    ]);
  }

  // -------------------------------------------------------------------- users

  private userTx(b: BlockBuilder, sofar: Uint8Array[]): Uint8Array | undefined {
    const rng = this.rng;
    const kind = this.kind();
    const k = rng.pick(this.traders);
    const n = rng.chance(0.85) ? 0 : 1;
    const m = rng.pick(MARKETS);
    const p = b.price(m.id);
    const side = rng.chance(0.5) ? ('buy' as const) : ('sell' as const);
    const size = () => roundStep((m.lot * BigInt(rng.range(1, 40))) / 10n, m.step) || m.step;
    const near = (s: 'buy' | 'sell', maxTicks: number) => {
      const off = BigInt(rng.range(-5, maxTicks)) * m.tick * (m.id === 0 ? 5n : 10n);
      return roundTick(s === 'buy' ? p - off : p + off, m.tick);
    };
    this.count(kind);
    switch (kind) {
      case 'send':
        return b.sign(k, [sendAny(k.address, rng.pick(this.all).address, BigInt(rng.range(1, 50_000_000)))]);
      case 'deposit':
        return b.sign(k, [depositAny(k.address, n, BigInt(rng.range(1_000, 30_000)) * 1_000_000n)]);
      case 'withdraw':
        return b.sign(k, [withdrawAny(k.address, n, BigInt(rng.range(1, 5_000)) * 1_000_000n, rng.chance(0.2) ? rng.pick(this.all).address : '')]);
      case 'transfer': {
        const to = rng.chance(0.5) ? k : rng.pick(this.traders);
        return b.sign(k, [transferAny(k.address, n, to.address, rng.int(2), BigInt(rng.range(1, 3_000)) * 1_000_000n)]);
      }
      case 'limit': {
        const expiry = rng.int(4);
        return b.sign(k, [
          placeAny(k.address, {
            number: n,
            market: m.id,
            clientId: this.nextClientId(k, n),
            side,
            price: near(side, 40),
            size: size(),
            gtb: expiry === 1 ? this.height + BigInt(rng.range(1, 30)) : 0n,
            gtt: expiry === 2 ? this.timeNs / 1_000_000_000n + BigInt(rng.range(1, 120)) : 0n,
            stp: rng.pick(['cancel_resting', 'cancel_taking', 'cancel_both'] as const),
          }),
        ]);
      }
      case 'ioc':
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side, price: near(side === 'buy' ? 'sell' : 'buy', 20), size: size(), tif: 'ioc' })]);
      case 'fok':
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side, price: near(side === 'buy' ? 'sell' : 'buy', 30), size: size() * BigInt(rng.range(1, 5)), tif: 'fok' })]);
      case 'post_only':
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side, price: near(side, 30), size: size(), tif: 'post_only' })]);
      case 'market':
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side, type: 'market', price: rng.chance(0.5) ? 0n : near(side === 'buy' ? 'sell' : 'buy', 60), size: size(), tif: rng.chance(0.5) ? 'ioc' : 'gtc' })]);
      case 'reduce_only': {
        const pos = b.position(k, n, m.id);
        const s = pos > 0n ? ('sell' as const) : ('buy' as const);
        const q = pos === 0n ? size() : roundStep((abs(pos) * BigInt(rng.range(1, 12))) / 10n, m.step) || m.step;
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side: s, type: rng.chance(0.5) ? 'market' : 'limit', price: near(s === 'buy' ? 'sell' : 'buy', 40), size: q, tif: 'ioc', reduceOnly: true })]);
      }
      case 'conditional': {
        const t = rng.pick(['stop_limit', 'stop_market', 'take_profit_limit', 'take_profit_market'] as const);
        const stop = t.startsWith('stop');
        // STOP buys when oracle ≥ trigger, sells when ≤; TAKE_PROFIT the opposite.
        const above = stop ? side === 'buy' : side === 'sell';
        const off = BigInt(rng.range(1, 400)) * m.tick * 10n;
        const trigger = roundTick(above ? p + off : p - off, m.tick);
        if (trigger <= 0n) return undefined;
        const limitPx = t.endsWith('limit') ? roundTick(side === 'buy' ? trigger + off : trigger - off, m.tick) : 0n;
        return b.sign(k, [placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side, type: t, price: limitPx > 0n ? limitPx : t.endsWith('limit') ? m.tick : 0n, size: size(), trigger, reduceOnly: rng.chance(0.3) })]);
      }
      case 'self_trade': {
        const px = near('buy', 2);
        const stp = rng.pick(['cancel_resting', 'cancel_taking', 'cancel_both'] as const);
        return b.sign(k, [
          placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side: 'buy', price: px, size: size(), tif: 'post_only' }),
          placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side: 'sell', price: px, size: size(), stp }),
        ], 800_000n);
      }
      case 'amend': {
        const open = b.openOrders(k, n);
        if (!open.length) return b.sign(k, [amendAny(k.address, n, { clientId: rng.range(1, 50) }, 0n, m.step)]);
        const o = rng.pick(open);
        const mk = MARKETS[o.marketId]!;
        const smaller = rng.chance(0.5);
        const price = smaller ? 0n : roundTick(o.price + BigInt(rng.range(-20, 20)) * mk.tick, mk.tick);
        const q = smaller ? roundStep(o.quantity / 2n, mk.step) || mk.step : roundStep(o.quantity + mk.step * BigInt(rng.range(0, 5)), mk.step);
        return b.sign(k, [amendAny(k.address, n, rng.chance(0.5) ? { orderId: o.id } : { clientId: o.clientId }, price > 0n ? price : 0n, q)]);
      }
      case 'cancel': {
        const open = b.openOrders(k, n);
        if (!open.length) return b.sign(k, [cancelAny(k.address, n, { clientId: rng.range(1, 30) })]);
        const o = rng.pick(open);
        return b.sign(k, [cancelAny(k.address, n, rng.chance(0.5) ? { orderId: o.id } : { clientId: o.clientId })]);
      }
      case 'batch': {
        const msgs: Any[] = [];
        for (const o of b.openOrders(k, n).slice(0, 3)) msgs.push(cancelAny(k.address, n, { orderId: o.id }));
        for (let i = rng.range(1, 4); i > 0; i--) {
          const s = rng.chance(0.5) ? ('buy' as const) : ('sell' as const);
          msgs.push(placeAny(k.address, { number: n, market: m.id, clientId: this.nextClientId(k, n), side: s, price: near(s, 30), size: size(), tif: rng.pick(['gtc', 'post_only', 'ioc'] as const) }));
        }
        return b.sign(k, msgs, 300_000n * BigInt(msgs.length));
      }
      case 'degen_open': {
        const d = rng.pick(this.degens);
        const dm = MARKETS[0]!;
        const dp = b.price(0);
        const pos = b.position(d, 0, 0);
        const coll = b.collateral(d, 0);
        const msgs: Any[] = [];
        // Re-enter after a liquidation: top up collateral to ~$1,500 and open ~15x.
        if (pos === 0n && coll < 1_500_000_000n) msgs.push(depositAny(d.address, 0, 1_500_000_000n - (coll > 0n ? coll : 0n)));
        if (pos === 0n || rng.chance(0.2)) {
          const ds = rng.chance(0.55) ? ('buy' as const) : ('sell' as const);
          // ≈ $16k–$25k notional on $1.5k: 11–17x (IMR 5%: up to 20x). A market order with a tight
          // worst price (0.3% off the oracle): the placement rule values it at that bound, so the
          // default 5% slippage bound would cap the leverage near 10x.
          const notionalUsd = BigInt(rng.range(16_000, 25_000));
          const q = roundStep((notionalUsd * 10_000_000_000n * 100_000n) / dp, dm.step);
          const bound = roundTick(ds === 'buy' ? (dp * 1_003_000n) / 1_000_000n : (dp * 997_000n) / 1_000_000n, dm.tick);
          msgs.push(placeAny(d.address, { market: 0, clientId: this.nextClientId(d), side: ds, type: 'market', price: bound, size: q, tif: 'ioc' }));
        }
        if (!msgs.length) msgs.push(placeAny(d.address, { market: 0, clientId: this.nextClientId(d), side: pos > 0n ? 'sell' : 'buy', type: 'market', size: roundStep(abs(pos) / 4n, dm.step) || dm.step, reduceOnly: true }));
        return b.sign(d, msgs, 500_000n);
      }
      // ------------------------------------------------------------ invalid
      case 'bad_sig': {
        const t = b.sign(k, [sendAny(k.address, rng.pick(this.all).address, 1_000n)], undefined, { noSeq: true });
        const sig = Uint8Array.from(signatureOf(t));
        const at = rng.int(64);
        sig[at] = sig[at]! ^ (1 << rng.int(8));
        return withSignature(t, sig);
      }
      case 'wrong_seq': {
        const s = b.seq(k);
        const wrong = s > 0n && rng.chance(0.5) ? s - 1n : s + BigInt(rng.range(1, 3));
        return b.sign(k, [sendAny(k.address, rng.pick(this.all).address, 1_000n)], undefined, { sequence: wrong });
      }
      case 'wrong_chain':
        return b.sign(k, [sendAny(k.address, rng.pick(this.all).address, 1_000n)], undefined, { chainId: 'other-chain-9', noSeq: true });
      case 'low_fee':
        return b.sign(k, [sendAny(k.address, rng.pick(this.all).address, 1_000n)], undefined, { fee: 1n, noSeq: true });
      case 'garbage':
        return rng.bytes(rng.range(0, 400));
      case 'duplicate': {
        const pool = [...sofar, ...this.lastTxs];
        return pool.length ? rng.pick(pool) : rng.bytes(12);
      }
      case 'bad_order': {
        const bad = rng.int(9);
        const base = { number: n, market: m.id, clientId: this.nextClientId(k, n), side, price: near(side, 20), size: size() };
        const o =
          bad === 0 ? { ...base, price: base.price + 1n } // off tick
          : bad === 1 ? { ...base, size: base.size + 1n } // off step
          : bad === 2 ? { ...base, size: m.minSize - m.step > 0n ? m.minSize - m.step : 0n } // below min / zero
          : bad === 3 ? { ...base, market: 7 } // unknown market
          : bad === 4 ? { ...base, size: roundStep(m.lot * 100_000n, m.step) } // far over margin
          : bad === 5 ? { ...base, clientId: Math.max(1, (this.clientIds.get(`${k.address}/${n}`) ?? 2) - 1) } // maybe duplicate client id
          : bad === 6 ? { ...base, reduceOnly: true, tif: 'ioc' as const, side: b.position(k, n, m.id) > 0n ? ('buy' as const) : ('sell' as const) } // reduce-only increasing
          : bad === 7 ? { ...base, size: 1n << 60n } // too large
          : { ...base, gtb: this.height - 1n }; // expiry in the past
        return b.sign(k, [placeAny(k.address, o)]);
      }
      case 'bad_cancel':
        return b.sign(k, [cancelAny(k.address, n, rng.chance(0.5) ? { orderId: BigInt(rng.range(1, 1_000_000)) } : { clientId: 4_000_000_000 + rng.int(1000) })]);
      case 'bad_withdraw':
        return b.sign(k, [withdrawAny(k.address, n, 10n ** 15n, '')]);
      case 'bad_send':
        return b.sign(k, [sendAny(k.address, rng.chance(0.5) ? INSURANCE_FUND : FEE_COLLECTOR, 1_000n)]);
      case 'bad_price': {
        const bad = rng.int(4);
        if (bad === 0) return b.sign(k, [pricesAny(k.address, [[0, p]])]); // not a feeder
        if (bad === 1) return b.sign(this.feeder, [pricesAny(this.feeder.address, [[0, 0n]])]); // zero price
        if (bad === 2) return b.sign(this.feeder, [pricesAny(this.feeder.address, [[9, p]])]); // unknown market
        return b.sign(this.feeder, [pricesAny(this.feeder.address, [[0, p], [0, p]])]); // a market twice
      }
      case 'unauthorized': {
        const mk = b.app.keepers.perpetuals.market(b.app.state, 0);
        return b.sign(k, [any('/perpchain.perpetuals.v1.MsgUpdateMarket', PB.perpetuals.v1.MsgUpdateMarket, { authority: k.address, market: marketToProto({ ...mk, status: 'halted' }) })]);
      }
      default:
        return undefined;
    }
  }
}

/** Per-block view of the reference state plus the local sequence model. */
class BlockBuilder {
  private readonly accounts = new Map<string, AccountView>();

  constructor(
    private readonly t: Traffic,
    readonly app: App,
  ) {}

  private view(k: TestKey): AccountView {
    let v = this.accounts.get(k.address);
    if (!v) {
      const a = this.app.keepers.auth.getAccount(this.app.state, k.address);
      v = { number: a?.accountNumber ?? 0n, sequence: a?.sequence ?? 0n };
      this.accounts.set(k.address, v);
    }
    return v;
  }

  seq(k: TestKey): bigint {
    return this.view(k).sequence;
  }

  /** Sign with the next sequence (and count it used), unless told otherwise. */
  sign(k: TestKey, messages: Any[], gas = 600_000n, o: { sequence?: bigint; chainId?: string; fee?: bigint; noSeq?: boolean } = {}): Uint8Array {
    const v = this.view(k);
    const sequence = o.sequence ?? v.sequence;
    const chainId = o.chainId ?? this.t.chainId;
    const fee = o.fee ?? (gas * 1000n + 999_999n) / 1_000_000n;
    const useExt = this.t.rng.chance(0.5);
    const bytes = buildTx({
      messages,
      signers: [{ key: k, sequence }],
      chainId,
      accountNumber: v.number,
      gas,
      fee: [{ denom: 'uusdc', amount: fee.toString() }],
      ...(useExt ? { extension: { chainId, accountNumber: v.number } } : {}),
    }).bytes;
    // A tx with the right sequence passes the ante handler (fee balances are ample) and uses it.
    if (o.sequence === undefined && !o.noSeq && o.chainId === undefined) v.sequence++;
    return bytes;
  }

  price(marketId: number): bigint {
    return this.app.keepers.prices.price(this.app.state, marketId);
  }

  position(k: TestKey, n: number, marketId: number): bigint {
    const s = this.app.keepers.subaccounts.get(this.app.state, { owner: k.address, number: n });
    return s.positions.find((p) => p.marketId === marketId)?.size ?? 0n;
  }

  collateral(k: TestKey, n: number): bigint {
    return this.app.keepers.subaccounts.get(this.app.state, { owner: k.address, number: n }).collateral;
  }

  openOrders(k: TestKey, n: number): Array<{ id: bigint; clientId: number; marketId: number; side: 'buy' | 'sell'; price: bigint; quantity: bigint }> {
    const out = [];
    for (const id of this.app.keepers.clob.openOrders(k.address, n)) {
      const o = this.app.keepers.clob.getOrder(this.app.state, id);
      if (o) out.push({ id: o.id, clientId: o.clientId, marketId: o.marketId, side: o.side, price: o.price, quantity: o.quantity - o.filled });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

// ------------------------------------------------------------------ messages

export interface PlaceSpec {
  number?: number;
  market: number;
  clientId: number;
  side: 'buy' | 'sell';
  type?: keyof typeof TYPE;
  tif?: keyof typeof TIF;
  price?: bigint;
  size: bigint;
  reduceOnly?: boolean;
  gtb?: bigint;
  gtt?: bigint;
  stp?: keyof typeof STP;
  trigger?: bigint;
}

export function placeAny(owner: string, o: PlaceSpec): Any {
  return any('/perpchain.clob.v1.MsgPlaceOrder', PB.clob.v1.MsgPlaceOrder, {
    owner,
    subaccountNumber: o.number ?? 0,
    marketId: o.market,
    clientId: o.clientId,
    side: SIDE[o.side],
    type: TYPE[o.type ?? 'limit'],
    timeInForce: TIF[o.tif ?? 'gtc'],
    price: U(o.price ?? 0n),
    quantity: U(o.size < 0n ? 0n : o.size),
    reduceOnly: o.reduceOnly ?? false,
    goodTilBlock: U(o.gtb ?? 0n),
    goodTilTime: S64(o.gtt ?? 0n),
    stp: STP[o.stp ?? 'cancel_resting'],
    triggerPrice: U(o.trigger ?? 0n),
  });
}

export function cancelAny(owner: string, number: number, sel: { orderId?: bigint; clientId?: number }): Any {
  return any('/perpchain.clob.v1.MsgCancelOrder', PB.clob.v1.MsgCancelOrder, { owner, subaccountNumber: number, orderId: U(sel.orderId ?? 0n), clientId: sel.clientId ?? 0, byClientId: sel.orderId === undefined });
}

export function amendAny(owner: string, number: number, sel: { orderId?: bigint; clientId?: number }, price: bigint, quantity: bigint): Any {
  return any('/perpchain.clob.v1.MsgAmendOrder', PB.clob.v1.MsgAmendOrder, { owner, subaccountNumber: number, orderId: U(sel.orderId ?? 0n), clientId: sel.clientId ?? 0, byClientId: sel.orderId === undefined, price: U(price), quantity: U(quantity) });
}

export function sendAny(from: string, to: string, amount: bigint): Any {
  return any('/perpchain.bank.v1.MsgSend', PB.bank.v1.MsgSend, { fromAddress: from, toAddress: to, amount: amount.toString() });
}

export function depositAny(owner: string, number: number, amount: bigint): Any {
  return any('/perpchain.subaccounts.v1.MsgDeposit', PB.subaccounts.v1.MsgDeposit, { owner, subaccountNumber: number, amount: amount.toString() });
}

export function withdrawAny(owner: string, number: number, amount: bigint, recipient: string): Any {
  return any('/perpchain.subaccounts.v1.MsgWithdraw', PB.subaccounts.v1.MsgWithdraw, { owner, subaccountNumber: number, amount: amount.toString(), recipient });
}

export function transferAny(owner: string, from: number, toOwner: string, toNumber: number, amount: bigint): Any {
  return any('/perpchain.subaccounts.v1.MsgTransfer', PB.subaccounts.v1.MsgTransfer, { owner, fromNumber: from, toOwner, toNumber, amount: amount.toString() });
}

export function pricesAny(feeder: string, ps: Array<[number, bigint]>): Any {
  return any('/perpchain.prices.v1.MsgUpdatePrices', PB.prices.v1.MsgUpdatePrices, { feeder, prices: ps.map(([marketId, price]) => ({ marketId, price: U(price) })) });
}

function roundTick(p: bigint, tick: bigint): bigint {
  return (p / tick) * tick;
}

function roundStep(q: bigint, step: bigint): bigint {
  return (q / step) * step;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}
