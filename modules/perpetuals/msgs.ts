import type { MsgDef } from '../../chain/module.js';
import { addressProblem } from '../../chain/codec/address.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ErrInvalidMarketParams, ErrUnauthorized } from './errors.js';
import { validateMarket, validatePerpetualsParams, type PerpetualsKeeper } from './keeper.js';
import { marketFromProto } from './types.js';
import { checkPrice } from '../prices/index.js';

export const MSG_CREATE_MARKET_URL = '/perpchain.perpetuals.v1.MsgCreateMarket';
export const MSG_UPDATE_MARKET_URL = '/perpchain.perpetuals.v1.MsgUpdateMarket';
export const MSG_UPDATE_PERPETUALS_PARAMS_URL = '/perpchain.perpetuals.v1.MsgUpdateParams';

function authorityOnly(keeper: PerpetualsKeeper, store: Parameters<PerpetualsKeeper['getParams']>[0], signer: string): void {
  const authority = keeper.getParams(store).authority;
  if (signer !== authority) throw ErrUnauthorized(`${signer} is not the market authority${authority ? ` (${authority})` : ' (none is set)'}`);
}

function checkAuthorityAddress(a: string): void {
  const p = addressProblem(a);
  if (p) throw ErrUnauthorized(p);
}

export function perpetualsMsgs(keeper: PerpetualsKeeper): MsgDef[] {
  const create: MsgDef<perpchain.perpetuals.v1.MsgCreateMarket> = {
    typeUrl: MSG_CREATE_MARKET_URL,
    type: perpchain.perpetuals.v1.MsgCreateMarket,
    gas: 20_000,
    signer: (m) => m.authority,
    validateBasic(m) {
      checkAuthorityAddress(m.authority);
      if (!m.market) throw ErrInvalidMarketParams('market is missing');
      validateMarket(marketFromProto(m.market));
      checkPrice(toBigInt(m.initialPrice));
    },
    precheck(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
    },
    handle(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
      const { statusRaw: _s, ...market } = marketFromProto(m.market!);
      keeper.createMarket(ctx, market, toBigInt(m.initialPrice));
    },
  };
  const update: MsgDef<perpchain.perpetuals.v1.MsgUpdateMarket> = {
    typeUrl: MSG_UPDATE_MARKET_URL,
    type: perpchain.perpetuals.v1.MsgUpdateMarket,
    gas: 10_000,
    signer: (m) => m.authority,
    validateBasic(m) {
      checkAuthorityAddress(m.authority);
      if (!m.market) throw ErrInvalidMarketParams('market is missing');
      validateMarket(marketFromProto(m.market));
    },
    precheck(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
    },
    handle(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
      const { statusRaw: _s, ...market } = marketFromProto(m.market!);
      keeper.updateMarket(ctx, market);
    },
  };
  const params: MsgDef<perpchain.perpetuals.v1.MsgUpdateParams> = {
    typeUrl: MSG_UPDATE_PERPETUALS_PARAMS_URL,
    type: perpchain.perpetuals.v1.MsgUpdateParams,
    gas: 5_000,
    signer: (m) => m.authority,
    validateBasic(m) {
      checkAuthorityAddress(m.authority);
      validatePerpetualsParams({ authority: m.params?.authority ?? '', fundingIntervalSeconds: BigInt(m.params?.fundingIntervalSeconds ?? 0) });
    },
    precheck(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
    },
    handle(ctx, m) {
      authorityOnly(keeper, ctx.store, m.authority);
      keeper.setParams(ctx.store, { authority: m.params!.authority!, fundingIntervalSeconds: BigInt(m.params!.fundingIntervalSeconds!) });
      ctx.events.emit('perpetuals.params', { authority: m.params!.authority!, funding_interval_seconds: m.params!.fundingIntervalSeconds! });
    },
  };
  return [create, update, params];
}
