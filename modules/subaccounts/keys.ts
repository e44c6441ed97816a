/** Store layout of the subaccounts module. */
export const SUBACCOUNT_TABLE = 'sub/acc/';
/** Funding dust (10^-18 uusdc) not yet swept to the insurance fund. */
export const DUST_KEY = 'sub/dust/';
/** Recorded bad debt per market (uusdc), written by the liquidation engine. */
export const BAD_DEBT_TABLE = 'sub/bad/';

export const MAX_SUBACCOUNT_NUMBER = 127;

export const subaccountKey = (owner: string, number: number): string => `${SUBACCOUNT_TABLE}${owner}/${number.toString().padStart(3, '0')}`;
export const badDebtKey = (marketId: number): string => BAD_DEBT_TABLE + marketId.toString(16).padStart(8, '0');

export function parseSubaccountKey(key: string): { owner: string; number: number } {
  const rest = key.slice(SUBACCOUNT_TABLE.length);
  const slash = rest.lastIndexOf('/');
  return { owner: rest.slice(0, slash), number: Number(rest.slice(slash + 1)) };
}
