/**
 * Wire types of the perpchain WebSocket API (JSON). The server in
 * chain/api/ produces exactly these shapes; chain/api/README.md documents
 * each with an example. Integers that can exceed 2^53 (prices, sizes,
 * collateral, ids) travel as decimal strings; heights and counts as numbers.
 */
import type { WireLevel } from './checksum.js';

export type { WireLevel } from './checksum.js';

/** Client → server. */
export interface ApiRequest {
  id: number | string;
  method: string;
  params?: Record<string, unknown>;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  /** For chain errors (a failed query): the chain's codespace/code, e.g. "clob/7". */
  chain_code?: string;
}

export interface ApiResponse {
  id: number | string | null;
  result?: unknown;
  error?: ApiErrorBody;
}

/**
 * Every channel push. seq is the channel's sequence number, the same for every subscriber (+1 per message
 * published); a snapshot carries the seq of the last message it already contains (0 if none), and the next
 * message must be seq + 1. height is the committed height the message reflects.
 */
export interface ChannelMessage<T = unknown> {
  channel: string;
  type: 'snapshot' | 'delta' | 'update';
  seq: number;
  height: number;
  data: T;
}

export interface WelcomeMessage {
  type: 'welcome';
  data: { server: string; chain_id: string; height: number; limits: ApiLimits; channels: string[]; methods: string[] };
}

export interface ServerErrorMessage {
  type: 'error';
  error: ApiErrorBody;
}

export interface TxResultPush {
  type: 'tx_result';
  /** The id of the submit_tx (or tx with wait) request this answers. */
  id: number | string;
  result: TxInclusion;
}

export interface ApiLimits {
  max_frame_bytes: number;
  max_subscriptions: number;
  max_connections_per_ip: number;
  max_messages_per_second: number;
  max_messages_per_second_per_ip: number;
  heartbeat_ms: number;
  max_buffered_bytes: number;
}

export interface WireEvent {
  type: string;
  attributes: Record<string, string>;
  /** Hash of the tx that emitted it; null for begin/end-block events. */
  tx_hash?: string | null;
}

export interface CheckTxJson {
  code: number;
  codespace: string;
  log: string;
  gas_wanted: string;
  gas_used: string;
  events: WireEvent[];
}

export interface SubmitTxResult {
  hash: string;
  check_tx: CheckTxJson;
}

export type TxInclusion =
  | ({ hash: string; status: 'included'; height: number; data: string } & CheckTxJson)
  | { hash: string; status: 'dropped' | 'timeout' | 'pending' | 'unknown'; reason?: string };

export interface MarketJson {
  id: number;
  ticker: string;
  status: 'active' | 'reduce_only' | 'halted';
  atomic_resolution: number;
  price_exponent: number;
  tick_size: string;
  step_size: string;
  min_order_size: string;
  initial_margin_ppm: string;
  maintenance_margin_ppm: string;
  oracle_price: string;
  oracle_stale: boolean;
  open_interest: string;
  funding_index: string;
  last_funding_rate_ppm: string;
  mean_premium_ppm: string;
  [k: string]: unknown;
}

export interface BookSnapshotData {
  market_id: number;
  ticker: string;
  /** Levels a side, on an `orderbook:<market>:<depth>` channel. */
  depth?: number;
  bids: WireLevel[];
  asks: WireLevel[];
  checksum: number;
}

export interface BookDeltaData {
  bids: WireLevel[];
  asks: WireLevel[];
  checksum: number;
}

export interface TradeJson {
  height: number;
  time: string;
  market_id: number;
  price: string;
  size: string;
  taker_side: 'buy' | 'sell';
  taker_order_id: string;
  maker_order_id: string;
  liquidation: boolean;
}

export interface CandleJson {
  /** Start of the interval, seconds since the epoch (block time). */
  t: number;
  open: string;
  high: string;
  low: string;
  close: string;
  /** Base quantums traded. */
  volume: string;
  trades: number;
}

export interface BlockJson {
  height: number;
  time: string | null;
  time_ns: string | null;
  tx_count: number;
  failed_tx_count: number;
  app_hash: string;
}

export interface OrderJson {
  id: string;
  owner: string;
  subaccount_number: number;
  market_id: number;
  client_id: number;
  side: 'buy' | 'sell';
  type: string;
  time_in_force: string;
  price: string;
  quantity: string;
  filled: string;
  remaining: string;
  reduce_only: boolean;
  [k: string]: unknown;
}

/** The chain's client-id record (query `clob/client_id/<owner>/<number>/<client id>`). */
export interface ClientIdRecordJson {
  order_id: string;
  open: boolean;
  /** Height from which the id can be reused; "0" while the order is open. */
  release_height: string;
  /** The order's market, side and placement height (absent in a record written before they were kept). */
  market_id?: number;
  side?: 'buy' | 'sell';
  placed_height?: string;
}

/** `client_order`: which order holds a client id. */
export interface ClientOrderInfo {
  order_id: string;
  placed_height: number;
  open: boolean;
  /** The order's market and side: a retry of the same placement names them too (absent for a record the chain wrote before it kept them). */
  market_id?: number;
  side?: 'buy' | 'sell';
  /** While a closed order's id is reserved: the height from which it can be reused. */
  release_height?: number;
  /** The id was released (retention passed) after this node saw the order: it is free again. */
  released?: boolean;
  /** The order itself while it is open. */
  order?: OrderJson;
  closed_reason?: string;
}

export interface SubaccountJson {
  owner: string;
  number: number;
  collateral: string;
  net_collateral: string;
  initial_margin_requirement: string;
  maintenance_margin_requirement: string;
  free_collateral: string;
  leverage_ppm: string | null;
  liquidatable: boolean;
  positions: Array<{ market_id: number; size: string; [k: string]: unknown }>;
}

export interface AccountSnapshotData {
  address: string;
  subaccounts: SubaccountJson[];
  open_orders: OrderJson[];
}

export interface AccountUpdateData {
  events: WireEvent[];
  fills: WireEvent[];
  funding_payments: WireEvent[];
  liquidations: WireEvent[];
  subaccounts?: SubaccountJson[];
  open_orders?: OrderJson[];
}

export interface RiskJson {
  insurance_fund: string;
  bad_debt: string;
  pool_balance: string;
  liquidation_events: Record<string, number>;
  liquidations_total: number;
  adl_total: number;
  block_liquidation_events: number;
}

export interface AccountJson {
  address: string;
  account_number: string;
  sequence: string;
  pub_key: string | null;
}

export interface StatusJson {
  chain_id: string;
  height: number;
  app_hash: string;
  mempool_size: number | null;
  submitter: string;
}

export const CHANNEL_KINDS = ['markets', 'blocks', 'risk', 'orderbook', 'trades', 'candles', 'account'] as const;
export const CANDLE_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];
