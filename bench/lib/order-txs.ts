/**
 * The order flow of bench/lib/order-flow.ts as signed perpchain txs, for
 * bench/orders.bench.ts and bench/abci.bench.ts.
 *
 * Market: BTC-USD (id 0) of the devnet genesis (chain/devnet/markets.ts),
 * oracle $65,000. Flow ticks map to $1 ticks with the flow's start mid at
 * $65,000; flow size units of 100 map to 0.001 BTC (so limit orders are
 * 0.001–0.02 BTC, market orders up to 0.03 BTC). Owner k of the flow is
 * trader key k − 1, subaccount 0, so the flow's per-owner self-trade
 * prevention is the chain's (cancel resting, same subaccount).
 *
 *   limit   MsgPlaceOrder limit GTC, client id = op index + 1
 *   market  MsgPlaceOrder market (IOC; worst price = oracle ± the module's
 *           market_order_slippage_ppm: price 0), client id = op index + 1
 *   cancel  MsgCancelOrder by client id, signed by the order's owner
 *
 * Each tx carries one message. Traders are funded in genesis and deposit
 * into subaccount 0 with their first tx (sequence 0), so order txs start at
 * sequence 1. The oracle price is set in genesis and never moves (staleness
 * is set far beyond the run, so no feeder txs are needed).
 */
import { Any } from 'cosmjs-types/google/protobuf/any';
import { marketsAppState } from '../../chain/devnet/markets.js';
import type { App } from '../../chain/app.js';
import type { ExecTxResult } from '../../chain/types.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { TestKey } from '../../test/helpers/keys.js';
import { cancelMsg, placeMsg } from '../../test/helpers/orders.js';
import { buildTx, msgDepositAny } from '../../test/helpers/rawtx.js';
import { CANCEL, FLOW_MID, LIMIT, MARKET, signerOf, type Flow } from './order-flow.js';

const P = perpchain.clob.v1;
export const ORDER_MARKET_ID = 0;
/** BTC-USD price units per $1 tick, and the price of the flow's start mid (the genesis oracle price). */
const TICK = 100_000n;
const MID_PRICE = 6_500_000_000n;
/** Base quantums per flow size unit (100 units = 0.001 BTC). */
const QUANTUMS_PER_UNIT = 100_000n;
/**
 * Gas limit of an order tx (fee 2,000 uusdc). A placement uses ~50k gas plus
 * ~62k per fill; signFlow refuses a flow with an op that could run out.
 */
export const ORDER_GAS = 2_000_000n;
const GAS_PER_FILL_BOUND = 80_000;
/** Collateral each trader deposits: $200,000 (the flow's positions need a few thousand at most). */
export const DEPOSIT = 200_000_000_000n;
/** Per-subaccount open-order limit (clob params default). */
const MAX_OPEN_ORDERS = 256;

export const flowPrice = (ticks: number): bigint => MID_PRICE + BigInt(ticks - FLOW_MID) * TICK;
export const flowSize = (units: number): bigint => BigInt(units) * QUANTUMS_PER_UNIT;

/** Genesis app_state sections beyond the funded accounts: the devnet markets and oracle, with prices that never go stale. */
export function ordersAppState(): Record<string, unknown> {
  const s = marketsAppState(new TestKey('bench-orders-authority').address, [new TestKey('bench-orders-feeder').address]);
  (s.prices as { params: Record<string, unknown> }).params.staleness_seconds = '1000000000';
  return s;
}

/** Every key's MsgDeposit of DEPOSIT into subaccount 0 (sequence 0). */
export function signDeposits(keys: readonly TestKey[], accountNumbers: readonly bigint[], chainId: string): Uint8Array[] {
  return keys.map((key, k) => buildTx({ messages: [msgDepositAny(key.address, 0, DEPOSIT.toString())], signers: [{ key, sequence: 0n }], chainId, accountNumber: accountNumbers[k]!, gas: ORDER_GAS }).bytes);
}

/** Account numbers of the keys, read from the App's committed state. */
export function accountNumbersOf(app: App, keys: readonly TestKey[]): bigint[] {
  return keys.map((k) => {
    const r = app.query({ path: `auth/account/${k.address}`, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) throw new Error(`no account for ${k.address}: ${r.log}`);
    return BigInt(JSON.parse(Buffer.from(r.value).toString()).account_number);
  });
}

/**
 * Sign ops [from, to) of the flow. `sequences` (per key, owner k → index k − 1)
 * is advanced as txs are signed, so consecutive calls continue each signer's
 * sequence.
 */
export function signFlow(f: Flow, from: number, to: number, o: { keys: readonly TestKey[]; accountNumbers: readonly bigint[]; sequences: bigint[]; chainId: string }): Uint8Array[] {
  if (f.owners > o.keys.length) throw new Error(`the flow has ${f.owners} owners, only ${o.keys.length} keys`);
  if (f.maxLivePerOwner >= MAX_OPEN_ORDERS) throw new Error(`the flow rests up to ${f.maxLivePerOwner} orders per owner (limit ${MAX_OPEN_ORDERS}): use more owners`);
  const out: Uint8Array[] = [];
  for (let i = from; i < to; i++) {
    if (100_000 + GAS_PER_FILL_BOUND * f.fills[i]! > Number(ORDER_GAS)) throw new Error(`flow op ${i} makes ${f.fills[i]} fills: more than an order tx's gas limit (${ORDER_GAS}) is meant for`);
    const k = signerOf(f, i) - 1;
    const key = o.keys[k]!;
    const t = f.type[i]!;
    let msg: Any;
    if (t === CANCEL) {
      const target = f.id[i]!;
      msg = Any.fromPartial({ typeUrl: '/perpchain.clob.v1.MsgCancelOrder', value: P.MsgCancelOrder.encode(cancelMsg(key.address, { clientId: clientIdOfOrder(f, target) }).value).finish() });
    } else {
      const side = f.side[i] === 0 ? 'buy' : 'sell';
      const spec =
        t === MARKET
          ? { market: ORDER_MARKET_ID, clientId: i + 1, side, type: 'market', price: 0n, size: flowSize(f.size[i]!) }
          : { market: ORDER_MARKET_ID, clientId: i + 1, side, type: 'limit', tif: 'gtc', price: flowPrice(f.price[i]!), size: flowSize(f.size[i]!) };
      msg = Any.fromPartial({ typeUrl: '/perpchain.clob.v1.MsgPlaceOrder', value: P.MsgPlaceOrder.encode(placeMsg(key.address, spec as Parameters<typeof placeMsg>[1]).value).finish() });
    }
    const sequence = o.sequences[k]!;
    o.sequences[k] = sequence + 1n;
    out.push(buildTx({ messages: [msg], signers: [{ key, sequence }], chainId: o.chainId, accountNumber: o.accountNumbers[k]!, gas: ORDER_GAS }).bytes);
  }
  return out;
}

const opOfIdCache = new WeakMap<Flow, Int32Array>();
/** Client id of limit order `id` of the flow (its op index + 1). */
function clientIdOfOrder(f: Flow, id: number): number {
  let m = opOfIdCache.get(f);
  if (!m) {
    m = new Int32Array(f.n + 1).fill(-1);
    for (let i = 0; i < f.n; i++) if (f.type[i] === LIMIT) m[f.id[i]!] = i;
    opOfIdCache.set(f, m);
  }
  const op = m[id]!;
  if (op < 0) throw new Error(`flow order ${id} has no op`);
  return op + 1;
}

export interface FlowCheck {
  /** clob.fill events (one per maker order touched). */
  fills: number;
  /** Fills the reference book made for the same ops. */
  referenceFills: number;
  /** Cancels refused because the order was no longer open (clob/7). */
  cancelsFailed: number;
  /** The most gas any tx used. */
  maxGasUsed: bigint;
}

/**
 * Check the results of ops [from, from + results.length): every tx code 0,
 * except cancels of orders no longer open (clob/7), which are counted. Any
 * other failure throws.
 */
export function checkFlowResults(f: Flow, from: number, results: readonly ExecTxResult[], into?: FlowCheck): FlowCheck {
  const c: FlowCheck = into ?? { fills: 0, referenceFills: 0, cancelsFailed: 0, maxGasUsed: 0n };
  results.forEach((r, j) => {
    const i = from + j;
    if (r.gasUsed > c.maxGasUsed) c.maxGasUsed = r.gasUsed;
    c.referenceFills += f.fills[i]!;
    if (r.code !== 0) {
      if (f.type[i] === CANCEL && r.codespace === 'clob' && r.code === 7) {
        c.cancelsFailed++;
        return;
      }
      throw new Error(`flow op ${i} (${['limit', 'cancel', 'market'][f.type[i]!]}) failed: ${r.codespace}/${r.code} ${r.log}`);
    }
    for (const e of r.events) if (e.type === 'clob.fill') c.fills++;
  });
  return c;
}

/**
 * The App's book against the flow's reference book after the whole flow
 * (levels, sizes and order counts, both sides). Returns a description of the
 * first difference, or undefined when they agree.
 */
export function compareBook(app: App, f: Flow): string | undefined {
  const r = app.query({ path: `clob/book/${ORDER_MARKET_ID}/1000`, data: new Uint8Array(), height: 0n, prove: false });
  if (r.code !== 0) return `book query failed: ${r.log}`;
  const book = JSON.parse(Buffer.from(r.value).toString()) as { bids: Array<[string, string, number]>; asks: Array<[string, string, number]> };
  for (const side of ['buy', 'sell'] as const) {
    const chain = side === 'buy' ? book.bids : book.asks;
    const ref = f.reference.levels(side).map(([px, q, n]) => [flowPrice(px).toString(), flowSize(q).toString(), n]);
    if (JSON.stringify(chain) !== JSON.stringify(ref)) return `${side} side: chain ${JSON.stringify(chain.slice(0, 3))}… (${chain.length} levels) vs reference ${JSON.stringify(ref.slice(0, 3))}… (${ref.length} levels)`;
  }
  return undefined;
}
