import { registerError } from '../../chain/errors/index.js';

const cs = 'auth';
export const ErrInvalidGenesis = registerError(cs, 2, 'invalid_genesis', 'invalid auth genesis');
export const ErrAccountNotFound = registerError(cs, 3, 'account_not_found', 'account not found');
