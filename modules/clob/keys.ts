/** Store layout of the clob module. */
export const ORDER_TABLE = 'clob/ord/';
export const CLIENT_ID_TABLE = 'clob/cid/';
export const PARAMS_KEY = 'clob/params/';
/** Next order id / priority sequence (one counter for both, decimal). */
export const NEXT_ID_KEY = 'clob/next/';

export const orderKey = (id: bigint | number): string => ORDER_TABLE + BigInt(id).toString(16).padStart(16, '0');
export const clientIdKey = (owner: string, number: number, clientId: number): string =>
  `${CLIENT_ID_TABLE}${owner}/${number.toString().padStart(3, '0')}/${clientId.toString(16).padStart(8, '0')}`;
