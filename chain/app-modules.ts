/**
 * The module set of perpchain and how the keepers are wired to each other.
 * Order matters: genesis runs in this order, begin/end blockers too
 * (prices first, so funding and liquidation see the block's new prices).
 */
import type { AppModule } from './module.js';
import { lastBlockTimeSec } from './block-time.js';
import { createAuthModule, type AuthKeeper } from '../modules/auth/index.js';
import { createBankModule, type BankKeeper } from '../modules/bank/index.js';
import { createPricesModule, type PricesKeeper } from '../modules/prices/index.js';
import { createPerpetualsModule, type PerpetualsKeeper } from '../modules/perpetuals/index.js';
import { createSubaccountsModule, type SubaccountsKeeper } from '../modules/subaccounts/index.js';
import { createClobModule, type ClobKeeper } from '../modules/clob/index.js';
import { createLiquidationModule, type LiquidationKeeper } from '../modules/liquidation/index.js';

export interface Keepers {
  auth: AuthKeeper;
  bank: BankKeeper;
  prices: PricesKeeper;
  perpetuals: PerpetualsKeeper;
  subaccounts: SubaccountsKeeper;
  clob: ClobKeeper;
  liquidation: LiquidationKeeper;
  /** Address of the fee collector module account. */
  feeCollector: string;
}

export interface ModuleSet {
  modules: AppModule[];
  keepers: Keepers;
}

export function buildModules(): ModuleSet {
  const auth = createAuthModule();
  const bank = createBankModule(auth.keeper);
  const feeCollector = bank.keeper.registerModuleAccount('fee_collector');
  const perpHolder: { keeper?: PerpetualsKeeper } = {};
  const prices = createPricesModule((s) => perpHolder.keeper?.getParams(s).authority ?? '', lastBlockTimeSec);
  const perpetuals = createPerpetualsModule(prices.keeper);
  perpHolder.keeper = perpetuals.keeper;
  const subaccounts = createSubaccountsModule({ bank: bank.keeper, perpetuals: perpetuals.keeper, prices: prices.keeper });
  const clob = createClobModule({
    subaccounts: subaccounts.keeper,
    perpetuals: perpetuals.keeper,
    prices: prices.keeper,
    feeCollector,
    authority: (s) => perpetuals.keeper.getParams(s).authority,
  });
  const liquidation = createLiquidationModule({
    subaccounts: subaccounts.keeper,
    perpetuals: perpetuals.keeper,
    prices: prices.keeper,
    clob: clob.keeper,
    bank: bank.keeper,
    authority: (s) => perpetuals.keeper.getParams(s).authority,
  });
  return {
    modules: [auth, bank, prices, perpetuals, subaccounts, clob, liquidation],
    keepers: {
      auth: auth.keeper,
      bank: bank.keeper,
      prices: prices.keeper,
      perpetuals: perpetuals.keeper,
      subaccounts: subaccounts.keeper,
      clob: clob.keeper,
      liquidation: liquidation.keeper,
      feeCollector,
    },
  };
}
