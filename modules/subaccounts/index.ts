/**
 * subaccounts: cross-margin accounts (collateral + positions), deposits,
 * withdrawals, transfers, lazy funding settlement, and the margin figures
 * (NC, IMR, MMR, free collateral, leverage, liquidation prices). See README.md.
 */
import { queryAddress, queryInt } from '../../chain/errors/query.js';
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { SubaccountsKeeper } from './keeper.js';
import { subaccountsMsgs } from './msgs.js';
import { subaccountInvariants, type InvariantDeps } from './invariants.js';
import { isLiquidatable, leveragePpm, liquidationPrice } from './margin.js';
import { BAD_DEBT_TABLE, MAX_SUBACCOUNT_NUMBER, SUBACCOUNT_TABLE } from './keys.js';
import { decodeSubaccount, type Subaccount } from './types.js';
import { decodeInt } from '../../chain/codec/amount.js';
import { ErrInvalidGenesis } from './errors.js';
import type { BankKeeper, PerpetualsKeeper, PriceKeeper } from './expected-keepers.js';

export { SubaccountsKeeper, MAX_POSITIONS, type TradeResult, type SubaccountListener } from './keeper.js';
export * from './margin.js';
export { type Subaccount, type SubaccountId, type Position, subaccountName, decodeSubaccount } from './types.js';
export { MSG_DEPOSIT_URL, MSG_WITHDRAW_URL, MSG_TRANSFER_URL } from './msgs.js';
export { SUBACCOUNT_TABLE, MAX_SUBACCOUNT_NUMBER, parseSubaccountKey } from './keys.js';
export * as subaccountsErrors from './errors.js';

/** The subaccount with every margin figure a trader or risk desk wants (strings for integers). */
export function subaccountView(keeper: SubaccountsKeeper, state: KVReader, sub: Subaccount) {
  const r = keeper.risk(state, sub);
  const lev = leveragePpm(r);
  return {
    owner: sub.owner,
    number: sub.number,
    collateral: sub.collateral.toString(),
    net_collateral: r.nc.toString(),
    initial_margin_requirement: r.imr.toString(),
    maintenance_margin_requirement: r.mmr.toString(),
    free_collateral: (r.nc - r.imr).toString(),
    leverage_ppm: lev === null ? null : lev.toString(),
    liquidatable: isLiquidatable(r),
    positions: sub.positions.map((p, i) => {
      const pr = r.positions[i]!;
      const liq = liquidationPrice(r, i);
      return {
        market_id: p.marketId,
        size: p.size.toString(),
        cost_basis: p.costBasis.toString(),
        oracle_price: pr.price.toString(),
        value: pr.value.toString(),
        notional: pr.notional.toString(),
        unrealized_pnl: (pr.value - p.costBasis).toString(),
        unsettled_funding: pr.unsettledFunding.toString(),
        initial_margin_requirement: pr.imr.toString(),
        maintenance_margin_requirement: pr.mmr.toString(),
        imf_ppm: pr.imfPpm.toString(),
        liquidation_price: liq === null ? null : liq.toString(),
      };
    }),
  };
}

export function createSubaccountsModule(deps: {
  bank: BankKeeper & { registerModuleAccount(name: string): string };
  perpetuals: PerpetualsKeeper & { markets(s: KVReader): Array<{ id: number }>; getState(s: KVReader, id: number): { openInterest: bigint } };
  prices: PriceKeeper;
}): AppModule & { keeper: SubaccountsKeeper } {
  const pool = deps.bank.registerModuleAccount('subaccounts');
  const insurance = deps.bank.registerModuleAccount('insurance_fund');
  const keeper = new SubaccountsKeeper(deps.bank, deps.perpetuals, deps.prices, pool, insurance);
  const inv: InvariantDeps = {
    keeper,
    poolBalance: (s) => deps.bank.balance(s, pool),
    fundingIndex: (s, id) => deps.perpetuals.fundingIndex(s, id),
    openInterest: (s, id) => deps.perpetuals.getState(s, id).openInterest,
    marketIds: (s) => deps.perpetuals.markets(s).map((m) => m.id),
  };
  return {
    name: 'subaccounts',
    keeper,
    msgs: subaccountsMsgs(keeper),
    defaultGenesis: () => ({}),
    initGenesis(ctx, json) {
      // Subaccounts start empty; funds enter by MsgDeposit so the pool always matches.
      if (json && typeof json === 'object' && Object.keys(json).length > 0) {
        throw ErrInvalidGenesis('subaccounts genesis takes no entries; fund subaccounts with MsgDeposit after genesis');
      }
      // (bank's genesis runs first) a pool that starts with coins no subaccount claims breaks conservation from block 1
      const held = deps.bank.balance(ctx.store, pool);
      if (held !== 0n) throw ErrInvalidGenesis(`the margin pool ${pool} must start empty, but bank genesis gives it ${held} uusdc; fund subaccounts with MsgDeposit after genesis`);
    },
    exportGenesis(state) {
      return {
        subaccounts_export_only: state.scanTable(SUBACCOUNT_TABLE).map(([, v]) => subaccountView(keeper, state, decodeSubaccount(v))),
        bad_debt: state.scanTable(BAD_DEBT_TABLE).map(([k, v]) => ({ market_id: parseInt(k.slice(BAD_DEBT_TABLE.length), 16), amount: decodeInt(v).toString() })),
      };
    },
    queries: {
      subaccount(state, [owner, number]) {
        const id = { owner: queryAddress(owner, 'owner'), number: queryInt(number, 'subaccount number', MAX_SUBACCOUNT_NUMBER) };
        return subaccountView(keeper, state, keeper.get(state, id));
      },
      owner(state, [owner]) {
        const who = queryAddress(owner, 'owner');
        const out = [];
        for (let n = 0; n <= MAX_SUBACCOUNT_NUMBER; n++) {
          if (keeper.exists(state, { owner: who, number: n })) out.push(subaccountView(keeper, state, keeper.get(state, { owner: who, number: n })));
        }
        return out;
      },
      pool(state) {
        return { pool_address: pool, pool_balance: deps.bank.balance(state, pool).toString(), insurance_fund_address: insurance, insurance_fund: deps.bank.balance(state, insurance).toString(), bad_debt: keeper.totalBadDebt(state).toString(), funding_dust: keeper.dust(state).toString() };
      },
    },
    invariants: subaccountInvariants(inv),
  };
}
