/**
 * The module set of perpchain and how the keepers are wired to each other.
 * Order matters: genesis runs in this order, begin/end blockers too.
 */
import type { AppModule } from './module.js';
import { createAuthModule, type AuthKeeper } from '../modules/auth/index.js';
import { createBankModule, type BankKeeper } from '../modules/bank/index.js';

export interface Keepers {
  auth: AuthKeeper;
  bank: BankKeeper;
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
  return {
    modules: [auth, bank],
    keepers: { auth: auth.keeper, bank: bank.keeper, feeCollector },
  };
}
