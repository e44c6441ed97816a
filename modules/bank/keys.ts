/** Store layout of the bank module. Balances and supply are decimal integers (ASCII). */
import { cachedKeys } from '../../chain/store/kv.js';

export const BALANCE_TABLE = 'bank/bal/';
export const SUPPLY_KEY = 'bank/supply/';
export const PARAMS_KEY = 'bank/params/';
export const DENOM = 'uusdc';

/** (the same string for the same address: see cachedKeys) */
export const balanceKey: (address: string) => string = cachedKeys(BALANCE_TABLE);
