/** Store layout of the bank module. Balances and supply are decimal integers (ASCII). */
export const BALANCE_TABLE = 'bank/bal/';
export const SUPPLY_KEY = 'bank/supply/';
export const PARAMS_KEY = 'bank/params/';
export const DENOM = 'uusdc';

export const balanceKey = (address: string): string => BALANCE_TABLE + address;
