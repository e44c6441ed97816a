/**
 * Trader: place, cancel, amend and batch orders for one subaccount, signed
 * by any cosmjs OfflineDirectSigner, with
 *  - exact decimal → tick/quantum conversion (refusing values that do not fit),
 *  - local sequence tracking (sequence.ts): many txs per block, automatic
 *    recovery from "expected X, got Y",
 *  - idempotent placement by client order id: a retried submission (after a
 *    lost answer or a reconnect) never makes a second order. The chain keeps
 *    a client id reserved while its order is open and for
 *    client_id_retention_blocks after; a resubmission that lands gets
 *    `clob/6 duplicate_client_id`, which the Trader resolves by asking the
 *    node which order holds the id and reports as alreadyPlaced.
 */
import type { EncodeObject, OfflineDirectSigner } from '@cosmjs/proto-signing';
import { fromBase64 } from '@cosmjs/encoding';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { perpchain } from '../proto/gen/perpchain.js';
import { feeFor, signTx, txHashOf } from './signing.js';
import { ApiRequestError, ConnectionLostError, RequestTimeoutError } from './connection.js';
import type { PerpchainClient } from './client.js';
import { SequenceTracker, parseSequenceMismatch } from './sequence.js';
import { amendOrderMsg, cancelOrderMsg, depositMsg, placeOrderMsg, sendMsg, transferMsg, withdrawMsg, type OrderRef, type PlaceOrderParams } from './orders.js';
import { UnitsError, sizeToQuantums, type DecimalInput, type MarketSpec } from './units.js';
import type { TxInclusion } from './protocol.js';
import { chainError } from './errors.js';

export type IncludedTx = Extract<TxInclusion, { status: 'included' }>;

export class TxError extends Error {
  override readonly name = 'TxError';
  constructor(
    readonly stage: 'check_tx' | 'deliver' | 'dropped' | 'timeout',
    readonly code: number,
    readonly codespace: string,
    readonly log: string,
    readonly hash?: string,
  ) {
    super(`${stage === 'check_tx' ? 'rejected by CheckTx' : stage === 'deliver' ? 'failed in its block' : stage === 'dropped' ? 'dropped from the mempool' : 'not included in time'}: ${codespace ? `${codespace}/${code} ` : ''}${log}`);
  }

  /** The chain's registered name of the error (e.g. "insufficient_margin"), when there is one. */
  get errorName(): string | undefined {
    return chainError(this.codespace, this.code)?.name;
  }
}

export interface TraderOptions {
  client: PerpchainClient;
  signer: OfflineDirectSigner;
  /** Signing address; default: the signer's first account. */
  address?: string;
  subaccount?: number;
  /** Gas price in micro-uusdc per gas; default: the chain's minimum (auth params). */
  gasPriceMicro?: bigint;
  /** First client order id (default random); ids then increase by one per order. */
  clientIdStart?: number;
  memo?: string;
}

export interface PlaceResult {
  orderId: bigint;
  clientId: number;
  /** resting | filled | partially_filled | cancelled | untriggered; "open"/"closed" when alreadyPlaced. */
  status: string;
  /** Base quantums filled by this placement (0 when alreadyPlaced and unknown). */
  filled: bigint;
  remaining: bigint;
  /**
   * Base quantums the chain clipped off a reduce-only order larger than the position it reduces (it then ran
   * as an order of the position's size, so filled + remaining + clipped = the size requested); 0 otherwise,
   * and 0 when alreadyPlaced.
   */
  clipped: bigint;
  reason: string;
  height: number;
  txHash: string;
  /** True when a retried submission found the order already on chain (no second order was made). */
  alreadyPlaced: boolean;
}

export type BatchOp = ({ op: 'place' } & PlaceOrderParams) | ({ op: 'cancel' } & OrderRef) | ({ op: 'amend' } & OrderRef & { market: string | number; price?: DecimalInput; size?: DecimalInput });

export interface BatchResult {
  txHash: string;
  height: number;
  /** One entry per op: a PlaceResult for places, null for cancels and amends. */
  results: Array<PlaceResult | null>;
}

const GAS = { place: 400_000n, cancel: 200_000n, amend: 300_000n, deposit: 200_000n, withdraw: 200_000n, transfer: 200_000n, send: 100_000n };

export class Trader {
  readonly sequence: SequenceTracker;
  private nextClientIdValue: number;
  private gasPriceMicro: bigint | undefined;

  private constructor(
    readonly client: PerpchainClient,
    private readonly signer: OfflineDirectSigner,
    readonly address: string,
    readonly subaccount: number,
    private readonly opts: TraderOptions,
  ) {
    this.sequence = new SequenceTracker(async () => {
      const a = await client.account(address);
      return { accountNumber: BigInt(a.account_number), sequence: BigInt(a.sequence) };
    });
    this.nextClientIdValue = opts.clientIdStart ?? 1 + Math.floor(Math.random() * 0xfffffff0);
    this.gasPriceMicro = opts.gasPriceMicro;
  }

  static async create(o: TraderOptions): Promise<Trader> {
    const address = o.address ?? (await o.signer.getAccounts())[0]?.address;
    if (!address) throw new Error('signer has no accounts');
    const t = new Trader(o.client, o.signer, address, o.subaccount ?? 0, o);
    if (t.gasPriceMicro === undefined) {
      const p = await o.client.query<{ min_gas_price_micro: string }>('auth/params');
      t.gasPriceMicro = BigInt(p.min_gas_price_micro);
    }
    return t;
  }

  /** The next client order id this trader will use. */
  nextClientId(): number {
    const id = this.nextClientIdValue >>> 0 || 1;
    this.nextClientIdValue = (id + 1) >>> 0 || 1;
    return id;
  }

  // ---------------------------------------------------------------- orders

  /** Place one order. Retrying with the same clientId is safe: at most one order is ever made. */
  async placeOrder(p: PlaceOrderParams): Promise<PlaceResult> {
    const r = await this.batch([{ op: 'place', ...p }]);
    return r.results[0]!;
  }

  async cancelOrder(ref: OrderRef): Promise<{ txHash: string; height: number }> {
    const r = await this.batch([{ op: 'cancel', ...ref }]);
    return { txHash: r.txHash, height: r.height };
  }

  async amendOrder(ref: OrderRef & { market: string | number; price?: DecimalInput; size?: DecimalInput }): Promise<{ txHash: string; height: number }> {
    const r = await this.batch([{ op: 'amend', ...ref }]);
    return { txHash: r.txHash, height: r.height };
  }

  /**
   * Several operations in one tx (all or nothing, one block, one fee).
   * Every place gets a client id (assigned here if missing), so the whole
   * batch is idempotent when retried.
   */
  async batch(ops: BatchOp[]): Promise<BatchResult> {
    if (ops.length === 0) throw new Error('empty batch');
    const msgs: EncodeObject[] = [];
    const clientIds: Array<number | undefined> = [];
    /** Each place's market and side: a reused client id is "already placed" only if the order it names matches. */
    const placed: Array<{ marketId: number; side: string } | undefined> = [];
    /** Each place's requested size in quantums (what the chain may clip). */
    const requested: bigint[] = [];
    let gas = 0n;
    for (const op of ops) {
      if (op.op === 'place') {
        const spec = await this.client.market(op.market);
        const clientId = op.clientId ?? this.nextClientId();
        // the chain would fail the whole tx on the second copy (clob/6), naming an order the failed tx never kept
        if (clientIds.includes(clientId)) throw new UnitsError(`client id ${clientId} is used by two placements of this batch: each order needs its own`);
        msgs.push(placeOrderMsg(this.address, this.subaccount, spec, { ...op, clientId }));
        requested.push(sizeToQuantums(spec, op.size));
        clientIds.push(clientId);
        placed.push({ marketId: spec.id, side: op.side });
        gas += GAS.place;
      } else if (op.op === 'cancel') {
        msgs.push(cancelOrderMsg(this.address, this.subaccount, op));
        clientIds.push(undefined);
        placed.push(undefined);
        gas += GAS.cancel;
      } else {
        const spec = await this.client.market(op.market);
        await this.checkOrderMarket(op, spec);
        msgs.push(amendOrderMsg(this.address, this.subaccount, spec, op, { ...(op.price !== undefined ? { price: op.price } : {}), ...(op.size !== undefined ? { size: op.size } : {}) }));
        clientIds.push(undefined);
        placed.push(undefined);
        gas += GAS.amend;
      }
    }
    let inc: IncludedTx;
    try {
      inc = await this.execute(msgs, gas);
    } catch (e) {
      // duplicate client id: a retried batch of placements that already landed. Only a batch of nothing but
      // placements can be read that way: the tx is all or nothing, so a cancel or amend in it did not run.
      if (e instanceof TxError && e.stage === 'deliver' && e.codespace === 'clob' && e.code === 6 && clientIds.every((c) => c !== undefined)) {
        const results: Array<PlaceResult | null> = [];
        for (let i = 0; i < clientIds.length; i++) results.push(await this.resolvePlaced(clientIds[i]!, e.hash ?? '', e.log, placed[i]!));
        return { txHash: e.hash ?? '', height: results.find((r) => r)?.height ?? 0, results };
      }
      throw e;
    }
    const responses = decodePlaceResponses(inc.data);
    let k = 0;
    const results = clientIds.map((cid): PlaceResult | null => {
      if (cid === undefined) return null;
      const want = requested[k]!;
      const r = responses[k++];
      const filled = r?.filled ?? 0n;
      const remaining = r?.remaining ?? 0n;
      return {
        orderId: r?.orderId ?? 0n,
        clientId: cid,
        status: r?.status ?? 'unknown',
        filled,
        remaining,
        clipped: r && want > filled + remaining ? want - filled - remaining : 0n,
        reason: r?.reason ?? '',
        height: inc.height,
        txHash: inc.hash,
        alreadyPlaced: false,
      };
    });
    return { txHash: inc.hash, height: inc.height, results };
  }

  /**
   * An amend's price and size are converted with `market`'s units: refuse it when the order is in another
   * market (a BTC order amended "in ETH-USD" would get a price a thousand times off). An order the node does
   * not know as open is left to the chain to refuse.
   */
  private async checkOrderMarket(ref: OrderRef, spec: MarketSpec): Promise<void> {
    let marketId: number | undefined;
    try {
      if (ref.orderId !== undefined) marketId = (await this.client.order(ref.orderId)).market_id;
      else if (ref.clientId !== undefined) marketId = (await this.client.clientOrder(this.address, this.subaccount, ref.clientId)).order?.market_id;
    } catch {
      return;
    }
    if (marketId !== undefined && marketId !== spec.id) {
      throw new UnitsError(`order ${ref.orderId ?? `with client id ${ref.clientId}`} is in market ${marketId}, not ${spec.ticker} (${spec.id}): name its own market so its price and size are converted with its units`);
    }
  }

  /** Which order holds a client id (the answer to clob/6 duplicate_client_id). */
  private async resolvePlaced(clientId: number, txHash: string, log: string, want: { marketId: number; side: string }): Promise<PlaceResult> {
    let info: Awaited<ReturnType<PerpchainClient['clientOrder']>> | undefined;
    try {
      info = await this.client.clientOrder(this.address, this.subaccount, clientId);
    } catch (e) {
      // the node's definite answer that the id is free: the order the chain's error names was not kept (it was
      // placed by this same failed tx, or the id was released since): nothing of this placement landed
      if (e instanceof ApiRequestError && e.code === 'not_found') throw new TxError('deliver', 6, 'clob', `${log} (the node says client id ${clientId} is free now: no order of this placement exists)`, txHash);
      info = undefined; // the node could not answer (connection lost, timeout): the chain's error names the order
    }
    // the id holds another order (another market or side): a collision, not this placement landing earlier
    // (a record from before the chain kept market and side names neither: it cannot be told from a retry)
    if (info?.side !== undefined && (info.market_id !== want.marketId || info.side !== want.side)) {
      throw new TxError('deliver', 6, 'clob', `${log} (it holds order ${info.order_id}: ${info.side} in market ${info.market_id}, not this ${want.side} in market ${want.marketId})`, txHash);
    }
    if (info) {
      return {
        orderId: BigInt(info.order_id),
        clientId,
        status: info.open ? 'open' : 'closed',
        filled: info.order ? BigInt(info.order.filled) : 0n,
        remaining: info.order ? BigInt(info.order.remaining) : 0n,
        clipped: 0n,
        reason: info.closed_reason ?? '',
        height: info.placed_height,
        txHash,
        alreadyPlaced: true,
      };
    }
    // the node could not answer: the chain's error names the order, its side and market
    const m = /client id (\d+) (?:is|was) order (\d+)(?: \((buy|sell) in market (\d+)\))?/.exec(log);
    if (!m || Number(m[1]) !== clientId) throw new TxError('deliver', 6, 'clob', log, txHash);
    if (m[3] !== undefined && (m[3] !== want.side || Number(m[4]) !== want.marketId)) {
      throw new TxError('deliver', 6, 'clob', `${log} (not this ${want.side} in market ${want.marketId})`, txHash);
    }
    return { orderId: BigInt(m[2]!), clientId, status: /still open/.test(log) ? 'open' : 'closed', filled: 0n, remaining: 0n, clipped: 0n, reason: '', height: 0, txHash, alreadyPlaced: true };
  }

  // -------------------------------------------------------------- collateral

  async deposit(usdc: DecimalInput): Promise<IncludedTx> {
    return this.execute([depositMsg(this.address, this.subaccount, usdc)], GAS.deposit);
  }

  async withdraw(usdc: DecimalInput, recipient?: string): Promise<IncludedTx> {
    return this.execute([withdrawMsg(this.address, this.subaccount, usdc, recipient)], GAS.withdraw);
  }

  /**
   * Move collateral from this subaccount to another: `{ subaccount: 1 }` is this owner's subaccount 1, `{ owner,
   * subaccount }` anyone's. The chain settles both and refuses it if this subaccount would fall below its
   * initial margin.
   */
  async transfer(usdc: DecimalInput, to: { subaccount: number; owner?: string }): Promise<IncludedTx> {
    return this.execute([transferMsg(this.address, this.subaccount, to, usdc)], GAS.transfer);
  }

  /** Send USDC from this account's bank balance (what deposits draw from and withdrawals pay into) to an address. */
  async send(to: string, usdc: DecimalInput): Promise<IncludedTx> {
    return this.execute([sendMsg(this.address, to, usdc)], GAS.send);
  }

  // ------------------------------------------------------------ tx engine

  /**
   * Sign, submit and wait for inclusion; recovers from sequence mismatches,
   * lost connections and mempool drops by itself. Throws TxError when the
   * chain refuses or fails the tx.
   */
  async execute(msgs: EncodeObject[], gas: bigint): Promise<IncludedTx> {
    for (let round = 0; ; round++) {
      const { hash, inclusion } = await this.submit(msgs, gas);
      const inc = await inclusion;
      if (inc.status === 'included') {
        if (inc.code === 0) return inc;
        const mm = parseSequenceMismatch(inc);
        if (mm && round < 3) {
          // another tx of this account took the sequence first: resync and re-sign
          await this.sequence.exclusive(() => this.sequence.refresh());
          this.sequence.mismatches++;
          continue;
        }
        throw new TxError('deliver', inc.code, inc.codespace, inc.log, hash);
      }
      if (inc.status === 'dropped' && round < 3) {
        await this.sequence.exclusive(() => this.sequence.refresh());
        continue;
      }
      throw new TxError(inc.status === 'dropped' ? 'dropped' : 'timeout', 0, '', inc.reason ?? inc.status, hash);
    }
  }

  /** Sign with the tracked sequence and pass CheckTx; returns the hash and the inclusion promise. */
  private submit(msgs: EncodeObject[], gas: bigint): Promise<{ hash: string; inclusion: Promise<TxInclusion> }> {
    return this.sequence.exclusive(async (t) => {
      for (let attempt = 0; ; attempt++) {
        const sequence = t.sequence;
        const bytes = await signTx({
          signer: this.signer,
          signerAddress: this.address,
          messages: msgs,
          fee: feeFor(gas, this.gasPriceMicro ?? 1000n),
          // learnt at the first welcome and kept: a tx signed while the socket reconnects is for the same chain
          chainId: await this.client.chainIdReady(),
          accountNumber: t.accountNumber,
          sequence,
          memo: this.opts.memo ?? '',
        });
        const r = await this.submitBytes(bytes);
        const ck = r.checkTx;
        if (ck.code === 0 || (ck.codespace === 'tx' && ck.code === 26)) {
          this.sequence.set(sequence + 1n);
          return { hash: r.hash, inclusion: r.inclusion };
        }
        const mm = parseSequenceMismatch(ck);
        if (mm && attempt < 5) {
          if (mm.expected > sequence) {
            // a resubmission whose first copy already landed?
            const known = await this.client.conn.request<TxInclusion>('tx', { hash: r.hash }, { idempotent: true });
            if (known.status === 'included') {
              this.sequence.set(mm.expected);
              return { hash: r.hash, inclusion: Promise.resolve(known) };
            }
          }
          this.sequence.adopt(mm.expected);
          continue;
        }
        throw new TxError('check_tx', ck.code, ck.codespace, ck.log, r.hash);
      }
    });
  }

  /**
   * Submit the same bytes until the node answers (a resubmission is harmless: same hash, answered "already in
   * the mempool" or, once included, by the sequence check that finds it). A lost connection or an unanswered
   * request is retried; when the tries run out the error carries the tx hash, since the tx may still land.
   */
  private async submitBytes(bytes: Uint8Array) {
    for (let tries = 0; ; tries++) {
      try {
        return await this.client.submitTx(bytes);
      } catch (e) {
        const retry = e instanceof ConnectionLostError || e instanceof RequestTimeoutError;
        if (!retry || tries >= 8) {
          if (e instanceof RequestTimeoutError) e.txHash = await txHashOf(bytes);
          throw e;
        }
        if (e instanceof ConnectionLostError) await this.client.conn.whenOpen(60_000);
      }
    }
  }
}

export function decodePlaceResponses(dataB64: string): Array<{ orderId: bigint; status: string; filled: bigint; remaining: bigint; reason: string }> {
  if (!dataB64) return [];
  const data = TxMsgData.decode(fromBase64(dataB64));
  return data.msgResponses
    .filter((a) => a.typeUrl === '/perpchain.clob.v1.MsgPlaceOrderResponse')
    .map((a) => {
      const m = perpchain.clob.v1.MsgPlaceOrderResponse.decode(a.value);
      return { orderId: BigInt(m.orderId.toString()), status: m.status, filled: BigInt(m.filled.toString()), remaining: BigInt(m.remaining.toString()), reason: m.reason };
    });
}
