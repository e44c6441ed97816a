/** Store layout of the auth module (all keys ASCII, see chain/store/kv.ts). */
import { cachedKeys } from '../../chain/store/kv.js';

export const ACCOUNT_TABLE = 'auth/acc/';
export const PARAMS_KEY = 'auth/params/';
/** Next free account number, decimal. */
export const NEXT_ACCOUNT_NUMBER_KEY = 'auth/next/';

/** (the same string for the same address: see cachedKeys) */
export const accountKey: (address: string) => string = cachedKeys(ACCOUNT_TABLE);
