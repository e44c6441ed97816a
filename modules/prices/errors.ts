import { registerError } from '../../chain/errors/index.js';

const cs = 'prices';
export const ErrUnknownMarket = registerError(cs, 2, 'unknown_market', 'no oracle price for this market');
export const ErrUnauthorizedFeeder = registerError(cs, 3, 'unauthorized_feeder', 'sender is not a registered price feeder');
export const ErrInvalidPrice = registerError(cs, 4, 'invalid_price', 'invalid price');
export const ErrInvalidParams = registerError(cs, 5, 'invalid_params', 'invalid prices params');
export const ErrInvalidGenesis = registerError(cs, 6, 'invalid_genesis', 'invalid prices genesis');
export const ErrStalePrice = registerError(cs, 7, 'stale_price', 'oracle price is stale');
export const ErrDuplicateReport = registerError(cs, 8, 'duplicate_report', 'market reported twice in one message');
export const ErrUnauthorized = registerError(cs, 9, 'unauthorized', 'only the authority may change prices params');
export const ErrPriceExists = registerError(cs, 10, 'price_exists', 'market already has an oracle price');
export const ErrFeedersReplaced = registerError(cs, 11, 'feeders_replaced', 'prices come from the validators\' vote extensions: feeder reports are refused');
