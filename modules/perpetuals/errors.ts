import { registerError } from '../../chain/errors/index.js';

const cs = 'perpetuals';
export const ErrUnknownMarket = registerError(cs, 2, 'unknown_market', 'unknown market');
export const ErrDuplicateMarket = registerError(cs, 3, 'duplicate_market', 'market id already exists');
export const ErrInvalidMarketParams = registerError(cs, 4, 'invalid_market_params', 'invalid market parameters');
export const ErrUnauthorized = registerError(cs, 5, 'unauthorized', 'only the authority may create or change markets');
export const ErrMarketNotActive = registerError(cs, 6, 'market_not_active', 'market is not active');
export const ErrInvalidGenesis = registerError(cs, 7, 'invalid_genesis', 'invalid perpetuals genesis');
export const ErrInvalidParams = registerError(cs, 8, 'invalid_params', 'invalid perpetuals params');
export const ErrImmutableField = registerError(cs, 9, 'immutable_field', 'market units cannot change after creation');
export const ErrMaxOpenInterest = registerError(cs, 10, 'max_open_interest', 'open interest would exceed the market maximum');
