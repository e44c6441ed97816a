import type { MsgDef } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { addressProblem } from '../../chain/codec/address.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ErrDuplicateReport, ErrInvalidParams, ErrInvalidPrice, ErrUnauthorized, ErrUnauthorizedFeeder } from './errors.js';
import { checkPrice, reportsOf, type PricesKeeper } from './keeper.js';
import { aggregatePrices, injectedFromProto } from '../../chain/oracle/vote-extensions.js';
import { decodePricesParams, encodePricesParams, type PricesParams } from './types.js';

export const MSG_UPDATE_PRICES_URL = '/perpchain.prices.v1.MsgUpdatePrices';
export const MSG_INJECT_PRICES_URL = '/perpchain.prices.v1.MsgInjectPrices';
export const MSG_UPDATE_PRICES_PARAMS_URL = '/perpchain.prices.v1.MsgUpdateParams';

const MAX_REPORTS = 256;

function validateReports(m: { prices?: perpchain.prices.v1.IPriceReport[] | null }): Array<{ marketId: number; price: bigint }> {
  const reports = reportsOf(m);
  if (reports.length === 0) throw ErrInvalidPrice('no prices in the message');
  if (reports.length > MAX_REPORTS) throw ErrInvalidPrice(`${reports.length} reports, at most ${MAX_REPORTS}`);
  const seen = new Set<number>();
  for (const r of reports) {
    if (seen.has(r.marketId)) throw ErrDuplicateReport(`market ${r.marketId}`);
    seen.add(r.marketId);
    checkPrice(r.price);
  }
  return reports;
}

export function paramsFromProto(p: perpchain.prices.v1.IParams | null | undefined): PricesParams {
  return decodePricesParams(perpchain.prices.v1.Params.encode(p ?? {}).finish());
}

export function validateParams(p: PricesParams): void {
  for (const f of p.feeders) {
    const problem = addressProblem(f);
    if (problem) throw ErrInvalidParams(`feeder: ${problem}`);
  }
  if (new Set(p.feeders).size !== p.feeders.length) throw ErrInvalidParams('duplicate feeder');
  if (p.minChangePpm >= 1_000_000n) throw ErrInvalidParams(`min_change_ppm ${p.minChangePpm} must be below 1,000,000`);
  if (p.maxMovePpm === 0n || p.maxMovePpm > 1_000_000n) throw ErrInvalidParams(`max_move_ppm ${p.maxMovePpm} must be in (0, 1,000,000]`);
  if (p.minChangePpm >= p.maxMovePpm) throw ErrInvalidParams('min_change_ppm must be below max_move_ppm');
  if (p.stalenessSeconds === 0n || p.stalenessSeconds > 0xffff_ffffn) throw ErrInvalidParams(`staleness_seconds ${p.stalenessSeconds} must be in [1, 4,294,967,295]`);
}

export function pricesMsgs(keeper: PricesKeeper, authority: (store: KVReader) => string): MsgDef[] {
  const update: MsgDef<perpchain.prices.v1.MsgUpdatePrices> = {
    typeUrl: MSG_UPDATE_PRICES_URL,
    type: perpchain.prices.v1.MsgUpdatePrices,
    gas: 2000,
    signer: (m) => m.feeder,
    validateBasic(m) {
      const p = addressProblem(m.feeder);
      if (p) throw ErrUnauthorizedFeeder(p);
      validateReports(m);
    },
    precheck(ctx, m) {
      keeper.assertFeedersAccepted(ctx.store);
      if (!keeper.getParams(ctx.store).feeders.includes(m.feeder)) throw ErrUnauthorizedFeeder(m.feeder);
    },
    handle(ctx, m) {
      if (!keeper.getParams(ctx.store).feeders.includes(m.feeder)) throw ErrUnauthorizedFeeder(`${m.feeder} is not in the feeder list`);
      for (const r of validateReports(m)) keeper.recordReport(ctx, m.feeder, r.marketId, r.price);
    },
  };
  const inject: MsgDef<perpchain.prices.v1.MsgInjectPrices> = {
    typeUrl: MSG_INJECT_PRICES_URL,
    type: perpchain.prices.v1.MsgInjectPrices,
    gas: 0,
    protocolOnly: true,
    signer: () => '',
    validateBasic(m) {
      if ((m.votes ?? []).length > 10_000) throw ErrInvalidPrice('more than 10,000 votes');
    },
    handle(ctx, m) {
      // ProcessProposal has checked the votes against the commit and the validators' keys.
      keeper.markVoteExtensions(ctx);
      const known = (id: number) => keeper.getPrice(ctx.store, id) !== undefined;
      for (const r of aggregatePrices(injectedFromProto(m).votes, known)) keeper.applyPrice(ctx, r.marketId, r.price);
    },
  };
  // CheckTx refuses a stranger's params update too (precheck), not only the block after it paid its fee
  const requireAuthority = (store: KVReader, who: string): void => {
    if (who !== authority(store)) throw ErrUnauthorized(`${who} is not the authority`);
  };
  const params: MsgDef<perpchain.prices.v1.MsgUpdateParams> = {
    typeUrl: MSG_UPDATE_PRICES_PARAMS_URL,
    type: perpchain.prices.v1.MsgUpdateParams,
    gas: 5000,
    signer: (m) => m.authority,
    validateBasic(m) {
      validateParams(paramsFromProto(m.params));
    },
    precheck(ctx, m) {
      requireAuthority(ctx.store, m.authority);
    },
    handle(ctx, m) {
      requireAuthority(ctx.store, m.authority);
      keeper.setParams(ctx.store, paramsFromProto(m.params));
      ctx.events.emit('prices.params', { feeders: paramsFromProto(m.params).feeders.join(',') });
    },
  };
  return [update, inject, params];
}

export { encodePricesParams };
