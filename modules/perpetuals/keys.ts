/** Store layout of the perpetuals module. Market ids are 8 hex digits so keys sort by id. */
export const MARKET_TABLE = 'perp/mkt/';
export const STATE_TABLE = 'perp/state/';
export const PARAMS_KEY = 'perp/params/';

export const marketKey = (id: number): string => MARKET_TABLE + id.toString(16).padStart(8, '0');
export const stateKey = (id: number): string => STATE_TABLE + id.toString(16).padStart(8, '0');
