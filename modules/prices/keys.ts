/** Store layout of the prices module. Market ids are 8 hex digits so keys sort by id. */
export const PRICE_TABLE = 'prices/px/';
export const VOTE_TABLE = 'prices/vote/';
export const PARAMS_KEY = 'prices/params/';
/** The height of the first block whose prices came from validators' vote extensions (absent before). */
export const VOTE_EXTENSIONS_SINCE_KEY = 'prices/ve_since/';

export const marketKey = (id: number): string => id.toString(16).padStart(8, '0');
export const priceKey = (id: number): string => PRICE_TABLE + marketKey(id);
/** A feeder's report for the current block (deleted at the end of the block). */
export const voteKey = (id: number, feeder: string): string => `${VOTE_TABLE}${marketKey(id)}/${feeder}`;
