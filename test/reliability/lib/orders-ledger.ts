/**
 * Per-order accounting from a chain's events: every order placed
 * (`clob.order_placed`), every fill on either side (`clob.fill`), every amend
 * (`clob.order_amended`) and every close (`clob.order_cancelled`, a fill to
 * zero). After each block it checks, for every order:
 *
 *   filled + remaining = quantity       in each MsgPlaceOrderResponse, each
 *                                       fill (maker_remaining) and each
 *                                       cancellation event, where quantity =
 *                                       placed − clipped (reduce-only orders
 *                                       resting with less, `clob.order_clipped`)
 *                                       or as amended;
 *   store.filled = Σ fills, store.quantity = that quantity
 *                                       for each order still open.
 *
 * Nothing here reads module internals beyond the committed order records.
 */
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import type { App } from '../../../chain/app.js';
import type { AbciEvent, FinalizeBlockResult } from '../../../chain/types.js';
import { ORDER_TABLE } from '../../../modules/clob/keys.js';
import { perpchain } from '../../../proto/gen/perpchain.js';

interface Tracked {
  /** As placed. */
  original: bigint;
  /** Current (after amends and reduce-only clipping). */
  quantity: bigint;
  filled: bigint;
  /** Cut by reduce-only clipping (clob.order_clipped). */
  clipped: bigint;
  open: boolean;
}

const attrs = (e: AbciEvent): Record<string, string> => Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
const modeOf = (e: AbciEvent) => e.attributes.find((a) => a.key === 'mode')?.value;

export class OrdersLedger {
  readonly orders = new Map<string, Tracked>();
  placed = 0;
  fills = 0;
  cancels = 0;
  amends = 0;
  clips = 0;
  private readonly amended = new Set<string>();
  checkedResponses = 0;

  /** Feed one finalized block's result; returns the problems found (empty = consistent). */
  block(r: FinalizeBlockResult): string[] {
    const problems: string[] = [];
    const begin = r.events.filter((e) => modeOf(e) === 'BeginBlock');
    const end = r.events.filter((e) => modeOf(e) === 'EndBlock');
    for (const e of begin) this.event(e, problems);
    for (const t of r.txResults) {
      for (const e of t.events) this.event(e, problems);
      if (t.code !== 0 || t.data.length === 0) continue;
      for (const a of TxMsgData.decode(t.data).msgResponses) {
        if (a.typeUrl !== '/perpchain.clob.v1.MsgPlaceOrderResponse') continue;
        const m = perpchain.clob.v1.MsgPlaceOrderResponse.decode(a.value);
        const o = this.orders.get(m.orderId.toString());
        this.checkedResponses++;
        if (!o) {
          problems.push(`place response for unknown order ${m.orderId}`);
          continue;
        }
        const filled = BigInt(m.filled.toString());
        const remaining = BigInt(m.remaining.toString());
        // The response's filled is what this placement matched; the order's total filled is the same (it is new).
        if (filled + remaining !== o.quantity && m.status !== 'untriggered') problems.push(`order ${m.orderId}: response filled ${filled} + remaining ${remaining} ≠ quantity ${o.quantity} (${m.status})`);
      }
    }
    for (const e of end) this.event(e, problems);
    return problems;
  }

  private event(e: AbciEvent, problems: string[]): void {
    switch (e.type) {
      case 'clob.order_placed': {
        const a = attrs(e);
        this.orders.set(a.order_id!, { original: BigInt(a.quantity!), quantity: BigInt(a.quantity!), filled: 0n, clipped: 0n, open: true });
        this.placed++;
        break;
      }
      case 'clob.fill': {
        const a = attrs(e);
        const size = BigInt(a.size!);
        this.fills++;
        for (const id of [a.taker_order_id!, a.maker_order_id!]) {
          const o = this.orders.get(id);
          if (!o) continue; // a liquidation's pseudo-order
          o.filled += size;
          if (o.filled > o.quantity) problems.push(`order ${id}: filled ${o.filled} > quantity ${o.quantity}`);
        }
        const maker = this.orders.get(a.maker_order_id!);
        if (maker && BigInt(a.maker_remaining!) !== maker.quantity - maker.filled) problems.push(`order ${a.maker_order_id}: fill says remaining ${a.maker_remaining}, accounting ${maker.quantity - maker.filled}`);
        if (maker && maker.filled === maker.quantity) maker.open = false;
        break;
      }
      case 'clob.order_amended': {
        const a = attrs(e);
        const o = this.orders.get(a.order_id!);
        this.amends++;
        if (o) o.quantity = o.filled + BigInt(a.remaining!);
        this.amended.add(a.order_id!);
        break;
      }
      case 'clob.order_clipped': {
        const a = attrs(e);
        const o = this.orders.get(a.order_id!);
        this.clips++;
        if (!o) break;
        if (BigInt(a.quantity!) !== o.quantity || BigInt(a.new_quantity!) + BigInt(a.clipped!) !== o.quantity) problems.push(`order ${a.order_id}: clipped from ${a.quantity} to ${a.new_quantity} (${a.clipped}), accounting quantity ${o.quantity}`);
        o.clipped += BigInt(a.clipped!);
        o.quantity = BigInt(a.new_quantity!);
        if (o.filled > o.quantity) problems.push(`order ${a.order_id}: clipped below its filled ${o.filled}`);
        if (!o.open) break;
        if (o.filled + (o.quantity - o.filled) + o.clipped !== o.original && !this.amended.has(a.order_id!)) problems.push(`order ${a.order_id}: filled + remaining + clipped ≠ placed`);
        break;
      }
      case 'clob.order_cancelled': {
        const a = attrs(e);
        const o = this.orders.get(a.order_id!);
        this.cancels++;
        if (!o) break;
        if (BigInt(a.remaining!) !== o.quantity - o.filled) problems.push(`order ${a.order_id} cancelled (${a.reason}) with remaining ${a.remaining}, accounting ${o.quantity} − ${o.filled}`);
        o.open = false;
        break;
      }
    }
  }

  /** Every open order in the App's committed state against the accounting. */
  checkOpen(app: App): string[] {
    const problems: string[] = [];
    for (const [key, v] of app.state.scanTable(ORDER_TABLE)) {
      const o = perpchain.clob.v1.Order.decode(v);
      const t = this.orders.get(o.id.toString());
      if (!t) {
        problems.push(`${key}: open order ${o.id} was never seen placed`);
        continue;
      }
      if (BigInt(o.filled.toString()) !== t.filled || BigInt(o.quantity.toString()) !== t.quantity) {
        problems.push(`order ${o.id}: store filled ${o.filled} of ${o.quantity}, events say ${t.filled} of ${t.quantity}`);
      }
    }
    return problems;
  }
}
