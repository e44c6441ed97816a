/**
 * perpchain SDK — the public surface.
 *
 *   const client = await PerpchainClient.connect('ws://127.0.0.1:8090');
 *   const book = await client.orderBook('BTC-USD');          // verified local book, resyncs itself
 *   const trader = await Trader.create({ client, signer });  // any cosmjs OfflineDirectSigner
 *   await trader.deposit('10000');
 *   const r = await trader.placeOrder({ market: 'BTC-USD', side: 'buy', price: '64000', size: '0.01' });
 *
 * Depends only on proto/ and npm packages (ws, decimal.js, long, @cosmjs/*,
 * cosmjs-types), never on the node's code.
 */
export { PerpchainClient, ManagedOrderBook, type RecentFillJson } from './client.js';
export { PerpchainConnection, ApiRequestError, ConnectionLostError, RequestTimeoutError, type ConnectionOptions, type ReconnectOptions, type WebSocketCtor, type WebSocketLike, type ConnectionEvents } from './connection.js';
export { LocalOrderBook, BookIntegrityError, type Level, type BookIntegrityReason } from './book.js';
export { bookChecksum, checksumText, crc32, CHECKSUM_DEPTH, type WireLevel } from './checksum.js';
export { Trader, TxError, decodePlaceResponses, type TraderOptions, type PlaceResult, type BatchOp, type BatchResult, type IncludedTx } from './trader.js';
export { SequenceTracker, parseSequenceMismatch, type SequenceMismatch } from './sequence.js';
export { placeOrderMsg, cancelOrderMsg, amendOrderMsg, depositMsg, withdrawMsg, transferMsg, sendMsg, type PlaceOrderParams, type OrderRef, type OrderSide, type OrderType, type TimeInForce, type StpMode } from './orders.js';
export { D, UnitsError, marketSpec, priceToUnits, sizeToQuantums, unitsToPrice, quantumsToSize, usdcToMicro, microToUsdc, type MarketSpec, type DecimalInput } from './units.js';
export { signTx, feeFor, txHashOf, DENOM, type Fee, type SignTxOptions } from './signing.js';
export { createRegistry, perpchainTypes } from './registry.js';
export * from './protocol.js';
export { CHAIN_ERRORS, chainError, ChainErrorResult, type ChainErrorInfo } from './errors.js';
