/** Store layout of the auth module (all keys ASCII, see chain/store/kv.ts). */
export const ACCOUNT_TABLE = 'auth/acc/';
export const PARAMS_KEY = 'auth/params/';
/** Next free account number, decimal. */
export const NEXT_ACCOUNT_NUMBER_KEY = 'auth/next/';

export const accountKey = (address: string): string => ACCOUNT_TABLE + address;
