import { registerError } from '../../chain/errors/index.js';

const cs = 'subaccounts';
export const ErrInvalidSubaccount = registerError(cs, 2, 'invalid_subaccount', 'invalid subaccount');
export const ErrInsufficientCollateral = registerError(cs, 3, 'insufficient_collateral', 'not enough free collateral');
export const ErrInvalidAmount = registerError(cs, 4, 'invalid_amount', 'invalid amount');
export const ErrInvalidGenesis = registerError(cs, 5, 'invalid_genesis', 'invalid subaccounts genesis');
export const ErrNegativeEquity = registerError(cs, 6, 'negative_equity', 'subaccount has negative equity');
export const ErrTooManyPositions = registerError(cs, 7, 'too_many_positions', 'too many open positions in one subaccount');
export const ErrInvalidRecipient = registerError(cs, 8, 'invalid_recipient', 'recipient cannot receive collateral (malformed, or a module account)');
export const ErrStalePrice = registerError(cs, 9, 'stale_price', 'collateral cannot leave a subaccount while a market it holds has a stale oracle price');
