import { registerError } from '../../chain/errors/index.js';

const cs = 'bank';
export const ErrInsufficientFunds = registerError(cs, 2, 'insufficient_funds', 'insufficient funds');
export const ErrInvalidAddress = registerError(cs, 3, 'invalid_address', 'invalid address');
export const ErrInvalidAmount = registerError(cs, 4, 'invalid_amount', 'invalid amount');
export const ErrSendDisabled = registerError(cs, 5, 'send_disabled', 'sending is disabled');
export const ErrBlockedRecipient = registerError(cs, 6, 'blocked_recipient', 'recipient may not receive funds by MsgSend');
export const ErrInvalidGenesis = registerError(cs, 7, 'invalid_genesis', 'invalid bank genesis');
