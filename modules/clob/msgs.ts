import type { MsgDef } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { addressProblem } from '../../chain/codec/address.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { SubaccountsKeeper } from '../subaccounts/index.js';
import { ErrInvalidOrder, ErrInvalidParams, ErrSizeTooLarge, ErrUnauthorized } from './errors.js';
import { MAX_ENGINE_INT, type ClobKeeper, type PlaceOrderInput } from './keeper.js';
import { isConditional, sideOf, stpOf, tifOf, typeOf, type ClobParams } from './types.js';

export const MSG_PLACE_ORDER_URL = '/perpchain.clob.v1.MsgPlaceOrder';
export const MSG_CANCEL_ORDER_URL = '/perpchain.clob.v1.MsgCancelOrder';
export const MSG_AMEND_ORDER_URL = '/perpchain.clob.v1.MsgAmendOrder';
export const MSG_UPDATE_CLOB_PARAMS_URL = '/perpchain.clob.v1.MsgUpdateParams';
export const PLACE_ORDER_RESPONSE_URL = '/perpchain.clob.v1.MsgPlaceOrderResponse';

type Place = perpchain.clob.v1.MsgPlaceOrder;

/** Stateless checks of a placement; returns the typed input. */
export function placeInput(m: Place): PlaceOrderInput {
  const p = addressProblem(m.owner);
  if (p) throw ErrInvalidOrder(`owner: ${p}`);
  SubaccountsKeeper.checkId({ owner: m.owner, number: m.subaccountNumber });
  const side = sideOf(m.side);
  if (!side) throw ErrInvalidOrder('side must be SIDE_BUY or SIDE_SELL');
  const type = typeOf(m.type);
  if (!type) throw ErrInvalidOrder('type must be set (limit, market, stop or take-profit)');
  const tif = tifOf(m.timeInForce);
  if (!tif) throw ErrInvalidOrder(`unknown time_in_force ${m.timeInForce}`);
  const stp = stpOf(m.stp);
  if (!stp) throw ErrInvalidOrder(`unknown stp mode ${m.stp}`);
  const price = toBigInt(m.price);
  const quantity = toBigInt(m.quantity);
  const triggerPrice = toBigInt(m.triggerPrice);
  const goodTilBlock = toBigInt(m.goodTilBlock);
  const goodTilTime = toBigInt(m.goodTilTime);
  if (quantity <= 0n) throw ErrInvalidOrder('size must be positive');
  if (quantity > MAX_ENGINE_INT || price > MAX_ENGINE_INT || triggerPrice > MAX_ENGINE_INT) throw ErrSizeTooLarge(`price, size and trigger must be at most ${MAX_ENGINE_INT}`);
  const market = type === 'market' || type === 'stop_market' || type === 'take_profit_market';
  if (!market && price <= 0n) throw ErrInvalidOrder('a limit order needs a positive price');
  if (price < 0n) throw ErrInvalidOrder('price must not be negative');
  if (market && tif !== 'gtc' && tif !== 'ioc') throw ErrInvalidOrder('a market order is immediate-or-cancel; time_in_force must be unset or IOC');
  if (isConditional(type) && triggerPrice <= 0n) throw ErrInvalidOrder('a stop or take-profit order needs a positive trigger_price');
  if (!isConditional(type) && triggerPrice !== 0n) throw ErrInvalidOrder('trigger_price is only for stop and take-profit orders');
  if (goodTilBlock < 0n || goodTilTime < 0n) throw ErrInvalidOrder('expiry must not be negative');
  if (goodTilBlock > 0n && goodTilTime > 0n) throw ErrInvalidOrder('set good_til_block or good_til_time, not both');
  if ((tif === 'ioc' || tif === 'fok' || market) && (goodTilBlock > 0n || goodTilTime > 0n)) throw ErrInvalidOrder('an immediate order takes no expiry');
  return {
    owner: m.owner,
    number: m.subaccountNumber,
    marketId: m.marketId,
    clientId: m.clientId,
    side,
    type,
    tif: market ? 'ioc' : tif,
    price,
    quantity,
    reduceOnly: m.reduceOnly,
    goodTilBlock,
    goodTilTime,
    stp,
    triggerPrice,
  };
}

export function paramsFromProto(p: perpchain.clob.v1.IParams | null | undefined): ClobParams {
  return {
    takerFeePpm: BigInt(p?.takerFeePpm ?? 0),
    makerFeePpm: BigInt(p?.makerFeePpm ?? 0),
    maxOpenOrders: p?.maxOpenOrders ?? 0,
    maxGoodTilBlocks: BigInt(p?.maxGoodTilBlocks ?? 0),
    maxGoodTilSeconds: BigInt(p?.maxGoodTilSeconds ?? 0),
    marketOrderSlippagePpm: BigInt(p?.marketOrderSlippagePpm ?? 0),
    clientIdRetentionBlocks: BigInt(p?.clientIdRetentionBlocks ?? 0),
    maxTriggersPerBlock: p?.maxTriggersPerBlock ?? 0,
    maxExpiriesPerBlock: p?.maxExpiriesPerBlock ?? 0,
    openOrderTiers: (p?.openOrderTiers ?? []).map((t) => ({ minNetCollateral: toBigInt(t.minNetCollateral), maxOpenOrders: t.maxOpenOrders ?? 0 })),
  };
}

export function validateClobParams(p: ClobParams): void {
  if (p.takerFeePpm < 0n || p.takerFeePpm > 100_000n) throw ErrInvalidParams('taker_fee_ppm must be in [0, 100,000]');
  if (p.makerFeePpm > 100_000n || -p.makerFeePpm > p.takerFeePpm) throw ErrInvalidParams('maker_fee_ppm must be ≤ 100,000 and a rebate no larger than the taker fee');
  if (p.maxOpenOrders < 1 || p.maxOpenOrders > 10_000) throw ErrInvalidParams('max_open_orders must be in [1, 10,000]');
  const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
  if (p.maxGoodTilBlocks < 1n || p.maxGoodTilBlocks > SAFE) throw ErrInvalidParams('max_good_til_blocks must be in [1, 2^53 - 1]');
  if (p.maxGoodTilSeconds < 1n || p.maxGoodTilSeconds > SAFE) throw ErrInvalidParams('max_good_til_seconds must be in [1, 2^53 - 1]');
  if (p.clientIdRetentionBlocks < 0n || p.clientIdRetentionBlocks > SAFE) throw ErrInvalidParams('client_id_retention_blocks must be in [0, 2^53 - 1]');
  if (p.marketOrderSlippagePpm < 1n || p.marketOrderSlippagePpm >= 1_000_000n) throw ErrInvalidParams('market_order_slippage_ppm must be in [1, 1,000,000)');
  if (p.maxTriggersPerBlock < 1 || p.maxTriggersPerBlock > 10_000) throw ErrInvalidParams('max_triggers_per_block must be in [1, 10,000]');
  if (p.maxExpiriesPerBlock < 1 || p.maxExpiriesPerBlock > 100_000) throw ErrInvalidParams('max_expiries_per_block must be in [1, 100,000]');
  // At least one tier: MsgUpdateParams replaces every param, and proto3 cannot tell an omitted repeated field
  // from an empty one, so an update that only meant to change a fee would silently have let every
  // subaccount rest orders without collateral. No limit is a tier too: {min_net_collateral: 0, max_open_orders: N}.
  if (p.openOrderTiers.length === 0) {
    throw ErrInvalidParams('open_order_tiers must list at least one tier (to let any subaccount rest N orders, give {min_net_collateral: 0, max_open_orders: N})');
  }
  if (p.openOrderTiers.length > 16) throw ErrInvalidParams('open_order_tiers: at most 16 tiers');
  for (let i = 0; i < p.openOrderTiers.length; i++) {
    const t = p.openOrderTiers[i]!;
    const prev = p.openOrderTiers[i - 1];
    if (t.minNetCollateral < 0n || t.minNetCollateral > SAFE) throw ErrInvalidParams(`open_order_tiers[${i}].min_net_collateral must be in [0, 2^53 - 1] uusdc`);
    // (a tier above max_open_orders is allowed: that cap applies to every subaccount anyway)
    if (!Number.isInteger(t.maxOpenOrders) || t.maxOpenOrders < 0 || t.maxOpenOrders > 10_000) throw ErrInvalidParams(`open_order_tiers[${i}].max_open_orders must be in [0, 10,000]`);
    if (prev && (t.minNetCollateral <= prev.minNetCollateral || t.maxOpenOrders < prev.maxOpenOrders)) {
      throw ErrInvalidParams(`open_order_tiers must ascend: tier ${i} needs more net collateral than tier ${i - 1} and allows at least as many orders`);
    }
  }
}

export function clobMsgs(keeper: ClobKeeper, authority: (s: KVReader) => string): MsgDef[] {
  const place: MsgDef<Place> = {
    typeUrl: MSG_PLACE_ORDER_URL,
    type: perpchain.clob.v1.MsgPlaceOrder,
    gas: 20_000,
    signer: (m) => m.owner,
    validateBasic: (m) => void placeInput(m),
    precheck(ctx, m) {
      keeper.precheckPlacement(ctx.store, placeInput(m));
    },
    handle(ctx, m) {
      const r = keeper.placeOrder(ctx, placeInput(m));
      return {
        typeUrl: PLACE_ORDER_RESPONSE_URL,
        value: perpchain.clob.v1.MsgPlaceOrderResponse.encode({ orderId: toLong(r.orderId), status: r.status, filled: toLong(r.filled), remaining: toLong(r.remaining), reason: r.reason }).finish(),
      };
    },
  };
  const sel = (m: { orderId: unknown; clientId: number; byClientId: boolean }) => ({ orderId: toBigInt(m.orderId as never), clientId: m.clientId, byClientId: m.byClientId });
  const checkOwner = (owner: string, number: number) => {
    const p = addressProblem(owner);
    if (p) throw ErrInvalidOrder(`owner: ${p}`);
    SubaccountsKeeper.checkId({ owner, number });
  };
  const cancel: MsgDef<perpchain.clob.v1.MsgCancelOrder> = {
    typeUrl: MSG_CANCEL_ORDER_URL,
    type: perpchain.clob.v1.MsgCancelOrder,
    gas: 8_000,
    signer: (m) => m.owner,
    validateBasic(m) {
      checkOwner(m.owner, m.subaccountNumber);
      if (!m.byClientId && toBigInt(m.orderId) <= 0n) throw ErrInvalidOrder('order_id must be set (or by_client_id with client_id)');
    },
    handle(ctx, m) {
      keeper.cancel(ctx, m.owner, m.subaccountNumber, sel(m));
    },
  };
  const amend: MsgDef<perpchain.clob.v1.MsgAmendOrder> = {
    typeUrl: MSG_AMEND_ORDER_URL,
    type: perpchain.clob.v1.MsgAmendOrder,
    gas: 15_000,
    signer: (m) => m.owner,
    validateBasic(m) {
      checkOwner(m.owner, m.subaccountNumber);
      if (!m.byClientId && toBigInt(m.orderId) <= 0n) throw ErrInvalidOrder('order_id must be set (or by_client_id with client_id)');
      if (toBigInt(m.price) === 0n && toBigInt(m.quantity) === 0n) throw ErrInvalidOrder('an amend changes the price, the size or both');
      if (toBigInt(m.price) > MAX_ENGINE_INT || toBigInt(m.quantity) > MAX_ENGINE_INT) throw ErrSizeTooLarge(`price and size must be at most ${MAX_ENGINE_INT}`);
    },
    handle(ctx, m) {
      keeper.amend(ctx, m.owner, m.subaccountNumber, sel(m), toBigInt(m.price), toBigInt(m.quantity));
    },
  };
  // CheckTx refuses a stranger's params update too (precheck), not only the block after it paid its fee
  const requireAuthority = (store: KVReader, who: string): void => {
    if (who !== authority(store)) throw ErrUnauthorized(`${who} is not the authority`);
  };
  const params: MsgDef<perpchain.clob.v1.MsgUpdateParams> = {
    typeUrl: MSG_UPDATE_CLOB_PARAMS_URL,
    type: perpchain.clob.v1.MsgUpdateParams,
    gas: 5_000,
    signer: (m) => m.authority,
    validateBasic(m) {
      validateClobParams(paramsFromProto(m.params));
    },
    precheck(ctx, m) {
      requireAuthority(ctx.store, m.authority);
    },
    handle(ctx, m) {
      requireAuthority(ctx.store, m.authority);
      keeper.setParams(ctx.store, paramsFromProto(m.params));
    },
  };
  return [place, cancel, amend, params];
}
