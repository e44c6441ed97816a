/**
 * Pure in-memory price-time matching engine of one market (no store, no
 * chain imports). See README.md in this folder.
 */
export { OrderBookEngine } from './book.js';
export { MatchResult } from './result.js';
export {
  ClobEngineError,
  MARKET_BUY_LIMIT,
  MARKET_SELL_LIMIT,
  type AmendResult,
  type BookDump,
  type DumpLevel,
  type EngineErrorCode,
  type EngineOptions,
  type Fill,
  type FillableOptions,
  type LevelTuple,
  type MatchHooks,
  type MatchOutcome,
  type MatchStatus,
  type OrderInput,
  type ReduceResult,
  type RemovalReason,
  type RemovedOrder,
  type RestingOrder,
  type Side,
  type StopReason,
  type StpMode,
  type TakerOrder,
} from './types.js';
