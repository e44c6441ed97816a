/**
 * liquidation: finds every subaccount below maintenance every block (an
 * exact index, not a scan), closes it through the book bounded by its
 * bankruptcy price, settles with the insurance fund, deleverages ranked
 * counterparties when the fund cannot pay and records bad debt. See README.md.
 */
import { z } from 'zod';
import { uint64Json } from '../../chain/codec/json-int.js';
import type { AppModule, MsgDef } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { registerError, ChainError } from '../../chain/errors/index.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { decodeSubaccount, SUBACCOUNT_TABLE, type Subaccount } from '../subaccounts/index.js';
import { LiquidationKeeper } from './keeper.js';
import { DEFAULT_LIQUIDATION_PARAMS, liquidationParamsJson, type LiquidationParams } from './params.js';
import type { BankKeeper, ClobKeeper, PerpetualsKeeper, PriceKeeper, SubaccountsKeeper } from './expected-keepers.js';
import { accountKey } from './risk-index.js';

export { LiquidationKeeper, bankruptcy, fillablePrice, roundToTick, type FlaggedAccount, type LiquidationSummary } from './keeper.js';
export { RiskIndex, marketCoords, surplus, type MarketCoords } from './risk-index.js';
export { type LiquidationParams, DEFAULT_LIQUIDATION_PARAMS } from './params.js';

export const ErrInvalidParams = registerError('liquidation', 2, 'invalid_params', 'invalid liquidation params');
export const ErrUnauthorized = registerError('liquidation', 3, 'unauthorized', 'only the authority may change liquidation params');
export const MSG_UPDATE_LIQUIDATION_PARAMS_URL = '/perpchain.liquidation.v1.MsgUpdateParams';

const int = uint64Json;
const GenesisSchema = z.strictObject({
  params: z
    .strictObject({
      liquidation_fee_ppm: int,
      spread_to_mmf_ppm: int,
      position_fraction_ppm: int,
      min_liquidation_notional: int,
      max_liquidations_per_block: z.number().int().nonnegative(),
      max_adl_fills_per_block: z.number().int().nonnegative(),
      max_adl_candidates: z.number().int().nonnegative(),
    })
    .partial()
    .optional(),
});

function fromProto(p: perpchain.liquidation.v1.IParams | null | undefined): LiquidationParams {
  return {
    liquidationFeePpm: BigInt(p?.liquidationFeePpm ?? 0),
    spreadToMmfPpm: BigInt(p?.spreadToMmfPpm ?? 0),
    positionFractionPpm: BigInt(p?.positionFractionPpm ?? 0),
    minLiquidationNotional: /^[0-9]{1,30}$/.test(p?.minLiquidationNotional ?? '') ? BigInt(p!.minLiquidationNotional!) : -1n,
    maxLiquidationsPerBlock: p?.maxLiquidationsPerBlock ?? 0,
    maxAdlFillsPerBlock: p?.maxAdlFillsPerBlock ?? 0,
    maxAdlCandidates: p?.maxAdlCandidates ?? 0,
  };
}

export function validateLiquidationParams(p: LiquidationParams): void {
  if (p.liquidationFeePpm > 100_000n) throw ErrInvalidParams('liquidation_fee_ppm must be at most 100,000 (10%)');
  if (p.spreadToMmfPpm > 10_000_000n) throw ErrInvalidParams('spread_to_mmf_ppm must be at most 10,000,000');
  if (p.positionFractionPpm < 1n || p.positionFractionPpm > 1_000_000n) throw ErrInvalidParams('position_fraction_ppm must be in [1, 1,000,000]');
  if (p.minLiquidationNotional < 0n) throw ErrInvalidParams('min_liquidation_notional must be a non-negative integer');
  if (p.maxLiquidationsPerBlock < 1 || p.maxLiquidationsPerBlock > 10_000) throw ErrInvalidParams('max_liquidations_per_block must be in [1, 10,000]');
  if (p.maxAdlFillsPerBlock > 10_000) throw ErrInvalidParams('max_adl_fills_per_block must be at most 10,000');
  if (p.maxAdlCandidates < 1 || p.maxAdlCandidates > 100_000) throw ErrInvalidParams('max_adl_candidates must be in [1, 100,000]');
}

function* subaccountsOf(state: KVReader): Generator<Subaccount> {
  for (const [, v] of state.scanTable(SUBACCOUNT_TABLE)) yield decodeSubaccount(v);
}

export function createLiquidationModule(deps: {
  subaccounts: SubaccountsKeeper & { onUpdate(l: (store: KVReader, sub: Subaccount, journal: import('../../chain/context.js').Journal | undefined) => void): void; totalBadDebt(s: KVReader): bigint; badDebt(s: KVReader, m: number): bigint; insuranceFundAddress: string };
  perpetuals: PerpetualsKeeper;
  prices: PriceKeeper;
  clob: ClobKeeper;
  bank: BankKeeper;
  authority: (s: KVReader) => string;
}): AppModule & { keeper: LiquidationKeeper } {
  const keeper = new LiquidationKeeper({
    subaccounts: deps.subaccounts,
    perps: deps.perpetuals,
    prices: deps.prices,
    clob: deps.clob,
    bank: deps.bank,
    insuranceFund: deps.subaccounts.insuranceFundAddress,
  });
  deps.subaccounts.onUpdate((store, sub, journal) => keeper.onSubaccountUpdate(store, sub, journal));
  // CheckTx refuses a stranger's params update too (precheck), not only the block after it paid its fee
  const requireAuthority = (store: KVReader, who: string): void => {
    if (who !== deps.authority(store)) throw ErrUnauthorized(`${who} is not the authority`);
  };
  const update: MsgDef<perpchain.liquidation.v1.MsgUpdateParams> = {
    typeUrl: MSG_UPDATE_LIQUIDATION_PARAMS_URL,
    type: perpchain.liquidation.v1.MsgUpdateParams,
    gas: 5_000,
    signer: (m) => m.authority,
    validateBasic: (m) => validateLiquidationParams(fromProto(m.params)),
    precheck(ctx, m) {
      requireAuthority(ctx.store, m.authority);
    },
    handle(ctx, m) {
      requireAuthority(ctx.store, m.authority);
      keeper.setParams(ctx.store, fromProto(m.params));
    },
  };
  return {
    name: 'liquidation',
    keeper,
    msgs: [update],
    defaultGenesis: () => ({ params: liquidationParamsJson(DEFAULT_LIQUIDATION_PARAMS) }),
    initGenesis(ctx, json) {
      const r = GenesisSchema.safeParse(json ?? {});
      if (!r.success) throw ErrInvalidParams(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const j = r.data.params ?? {};
      const d = DEFAULT_LIQUIDATION_PARAMS;
      const p: LiquidationParams = {
        liquidationFeePpm: j.liquidation_fee_ppm !== undefined ? BigInt(j.liquidation_fee_ppm) : d.liquidationFeePpm,
        spreadToMmfPpm: j.spread_to_mmf_ppm !== undefined ? BigInt(j.spread_to_mmf_ppm) : d.spreadToMmfPpm,
        positionFractionPpm: j.position_fraction_ppm !== undefined ? BigInt(j.position_fraction_ppm) : d.positionFractionPpm,
        minLiquidationNotional: j.min_liquidation_notional !== undefined ? BigInt(j.min_liquidation_notional) : d.minLiquidationNotional,
        maxLiquidationsPerBlock: j.max_liquidations_per_block ?? d.maxLiquidationsPerBlock,
        maxAdlFillsPerBlock: j.max_adl_fills_per_block ?? d.maxAdlFillsPerBlock,
        maxAdlCandidates: j.max_adl_candidates ?? d.maxAdlCandidates,
      };
      try {
        validateLiquidationParams(p);
      } catch (e) {
        throw e instanceof ChainError ? e : ErrInvalidParams(String(e));
      }
      keeper.setParams(ctx.store, p);
    },
    exportGenesis: (state) => ({ params: liquidationParamsJson(keeper.getParams(state)) }),
    load(state) {
      keeper.load(state, subaccountsOf(state));
    },
    endBlock(ctx) {
      keeper.endBlock(ctx);
    },
    queries: {
      liquidatable() {
        return {
          height: keeper.last.height.toString(),
          accounts: keeper.last.flagged.map((f) => ({ owner: f.owner, number: f.number, margin_ratio_ppm: f.ratioPpm.toString() })),
          processed: keeper.last.processed,
          carried: keeper.last.carried,
        };
      },
      status(state) {
        const markets = deps.perpetuals.markets(state).map((m) => ({ market_id: m.id, bad_debt: deps.subaccounts.badDebt(state, m.id).toString() }));
        return {
          insurance_fund: keeper.insuranceFund(state).toString(),
          insurance_fund_address: deps.subaccounts.insuranceFundAddress,
          bad_debt_total: deps.subaccounts.totalBadDebt(state).toString(),
          bad_debt_by_market: markets,
          last_block: keeper.last.height.toString(),
          liquidatable_count: keeper.last.flaggedCount,
          carried_count: keeper.last.carried.length,
          indexed_accounts: keeper.index.size,
        };
      },
      params(state) {
        return liquidationParamsJson(keeper.getParams(state));
      },
    },
    invariants: [
      {
        name: 'liquidation/index-complete',
        check(state) {
          const broken: string[] = [];
          let n = 0;
          for (const s of subaccountsOf(state)) {
            if (!s.positions.length) continue;
            n++;
            const a = keeper.index.get(accountKey(s));
            if (!a) broken.push(`${accountKey(s)} has positions but is not indexed`);
            else if (a.positions.length !== s.positions.length || a.positions.some((p, i) => p.size !== s.positions[i]!.size || p.marketId !== s.positions[i]!.marketId)) {
              broken.push(`${accountKey(s)}: index positions differ from state`);
            }
          }
          if (keeper.index.size !== n) broken.push(`index holds ${keeper.index.size} accounts, state has ${n} with positions`);
          return broken;
        },
      },
    ],
  };
}
