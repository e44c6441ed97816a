/**
 * Matching engine throughput: one fixed-seed flow of 300,000 operations
 * (~70% limit orders a few ticks around a slowly drifting mid, ~25% cancels of
 * live orders, ~5% market orders, 1,000 owners) fed to
 *   (a) our OrderBookEngine through the keeper's real path: STP
 *       (cancel_resting) on every taker, a no-op `allow` hook, journaling on
 *       with a mark per op and a commit every 1,000 ops (a "block"), GTC
 *       remainders rested with `add`;
 *   (b) nodejs-order-book (`limit` GTC / `market` / `cancel`, accountId +
 *       EXPIRE_MAKER, the same STP semantics).
 * Both books must end in the same state (orders, levels, volumes); the bench
 * prints the comparison and fails if they differ.
 *
 * The flow generator lives in bench/lib/order-flow.ts (bench/orders.bench.ts and
 * bench/abci.bench.ts send the same flow as signed txs through the App).
 *
 * Args: --ops=N (default 300000), --reps=N (default 5).
 */
import { OrderBook, SelfTradePreventionMode, Side as PeerSide } from 'nodejs-order-book';
import { MARKET_BUY_LIMIT, MARKET_SELL_LIMIT, OrderBookEngine, type MatchHooks } from '../modules/clob/engine/index.js';
import { CANCEL, LIMIT, MARKET, generateFlow, type Flow } from './lib/order-flow.js';

export const name = 'matching';
export const description = 'price-time matching engine vs nodejs-order-book on one 300k-op flow (limit 70% / cancel 25% / market 5%)';

const BLOCK = 1000;

/** The keeper's path: STP on, a hook present, journal with a mark per tx and a commit per block. */
function runEngine(f: Flow): { ms: number; book: OrderBookEngine; fills: number; stp: number } {
  const book = new OrderBookEngine({ initialCapacity: 1 << 12 });
  let fills = 0;
  let stp = 0;
  const hooks: MatchHooks = { allow: (_maker, qty) => qty };
  const sides = f.sideStr;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < f.n; i++) {
    book.mark();
    const t = f.type[i]!;
    if (t === LIMIT) {
      const side = sides[f.side[i]!]!;
      const owner = f.owner[i]!;
      const price = f.price[i]!;
      const res = book.match({ owner, side, limitPrice: price, quantity: f.size[i]!, stp: 'cancel_resting' }, hooks);
      fills += res.fillCount;
      stp += res.removedCount;
      if (res.remaining > 0) book.add({ id: f.id[i]!, owner, side, price, quantity: res.remaining });
    } else if (t === CANCEL) {
      book.cancel(f.id[i]!);
    } else {
      const buy = f.side[i] === 0;
      const res = book.match(
        { owner: f.owner[i]!, side: buy ? 'buy' : 'sell', limitPrice: buy ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT, quantity: f.size[i]!, stp: 'cancel_resting' },
        hooks,
      );
      fills += res.fillCount;
      stp += res.removedCount;
    }
    if (i % BLOCK === BLOCK - 1) book.commit();
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, book, fills, stp };
}

function runPeer(f: Flow): { ms: number; book: OrderBook } {
  const book = new OrderBook();
  const stpMode = SelfTradePreventionMode.EXPIRE_MAKER;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < f.n; i++) {
    const t = f.type[i]!;
    const side = f.side[i] === 0 ? PeerSide.BUY : PeerSide.SELL;
    if (t === LIMIT) {
      book.limit({ side, id: f.idStr[i]!, size: f.size[i]!, price: f.price[i]!, accountId: f.ownerStr[f.owner[i]!]!, stpMode });
    } else if (t === CANCEL) {
      book.cancel(f.idStr[i]!);
    } else {
      book.market({ side, size: f.size[i]!, accountId: f.ownerStr[f.owner[i]!]!, stpMode });
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, book };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function arg(args: string[], key: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? Number(a.slice(key.length + 3)) : dflt;
}

export async function run(args: string[]): Promise<Record<string, number>> {
  const ops = arg(args, 'ops', 300_000);
  const reps = Math.max(1, arg(args, 'reps', 5));
  const f = generateFlow(ops, 0x5eed);
  console.log(`  flow: ${ops} ops (limit ${f.counts[LIMIT]}, cancel ${f.counts[CANCEL]}, market ${f.counts[MARKET]}), seed 0x5eed`);

  // Warm up both (JIT), then alternate timed repetitions.
  runEngine(f);
  runPeer(f);
  const eMs: number[] = [];
  const pMs: number[] = [];
  let last: { e: ReturnType<typeof runEngine>; p: ReturnType<typeof runPeer> } | undefined;
  for (let r = 0; r < reps; r++) {
    const e = runEngine(f);
    const p = runPeer(f);
    eMs.push(e.ms);
    pMs.push(p.ms);
    last = { e, p };
  }
  const { e, p } = last!;

  // Honesty check: both books must hold the same orders at the same levels.
  const [pAsks, pBids] = p.book.depth();
  const eBids = e.book.levels('buy').map(([px, q]) => [px, q]);
  const eAsks = e.book.levels('sell').map(([px, q]) => [px, q]);
  const same = JSON.stringify(eBids) === JSON.stringify(pBids) && JSON.stringify(eAsks) === JSON.stringify(pAsks);
  const peerOrders = countPeerOrders(p.book, f);
  console.log(
    `  end state  engine: ${e.book.size} orders, ${eBids.length}/${eAsks.length} bid/ask levels, best ${e.book.bestBid()}/${e.book.bestAsk()}, ${e.fills} fills, ${e.stp} makers removed by STP`,
  );
  console.log(`  end state  peer:   ${peerOrders} orders, ${pBids.length}/${pAsks.length} bid/ask levels, best ${pBids[0]?.[0]}/${pAsks[0]?.[0]}`);
  console.log(`  end state  identical levels and volumes: ${same ? 'yes' : 'NO'}`);
  const problems = e.book.checkInvariants();
  if (problems.length) console.log(`  engine invariants broken: ${problems.slice(0, 5).join('; ')}`);
  if (!same || peerOrders !== e.book.size || problems.length) throw new Error('matching bench: books diverged, figures are not comparable');

  const eMed = median(eMs);
  const pMed = median(pMs);
  const engineOps = Math.round((ops / eMed) * 1000);
  const peerOps = Math.round((ops / pMed) * 1000);
  const ratio = Math.round((engineOps / peerOps) * 100) / 100;
  console.log(`  engine: median ${eMed.toFixed(1)} ms of [${eMs.map((x) => x.toFixed(0)).join(', ')}] → ${engineOps.toLocaleString('en-US')} ops/s`);
  console.log(`  peer:   median ${pMed.toFixed(1)} ms of [${pMs.map((x) => x.toFixed(0)).join(', ')}] → ${peerOps.toLocaleString('en-US')} ops/s`);
  console.log(`  ratio engine/peer: ×${ratio.toFixed(2)}`);
  return { engine_ops_per_s: engineOps, peer_ops_per_s: peerOps, ratio_vs_peer: ratio, engine_median_ms: Math.round(eMed * 10) / 10 };
}

/** Resting orders in the peer book (its `order(id)` lookup over the flow's limit ids). */
function countPeerOrders(book: OrderBook, f: Flow): number {
  let n = 0;
  for (let i = 0; i < f.n; i++) if (f.type[i] === LIMIT && book.order(f.idStr[i]!) !== undefined) n++;
  return n;
}
