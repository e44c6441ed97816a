import type { Ctx } from './context.js';
import type { KVReader } from './store/kv.js';
import type { ErrorDef } from './errors/index.js';
import type { CommittedBlock } from './types.js';

/** A protobufjs static message class. */
export interface ProtoType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
  create(properties?: Partial<T>): T;
}

/**
 * How the App routes one message type. Handlers are thin: validate, call the
 * keeper, let the keeper emit events. Validation that needs no state goes in
 * validateBasic (runs in CheckTx and in the ante handler); everything that
 * reads state goes in the handler.
 */
export interface MsgDef<T = any> {
  readonly typeUrl: string;
  readonly type: ProtoType<T>;
  /** Address that must sign this message. */
  signer(msg: T): string;
  /** Stateless checks; throw a ChainError. */
  validateBasic(msg: T): void;
  /** Flat gas charged before the handler runs. */
  readonly gas: number;
  /** Execute in deliver mode; throw a ChainError to fail (state is rolled back). May return a response for the tx result's data. */
  handle(ctx: Ctx, msg: T): void | MsgResponse;
  /** Optional read-only pre-check run in CheckTx so the mempool refuses what would surely fail. */
  precheck?(ctx: Ctx, msg: T): void;
  /**
   * uusdc this message takes from its signer's bank balance when it succeeds (a send, a deposit): the
   * proposer counts it with the fees when packing a block, since CheckTx does not run messages.
   */
  bankOutflow?(msg: T): bigint;
  /**
   * uusdc this message can add to a bank balance when it succeeds (a withdrawal from a subaccount), at most
   * what `state` makes possible (the subaccount's collateral). CheckTx and the proposer credit it to the
   * signer's later sends and deposits, in the same tx and (CheckTx) in the signer's later pending txs, since
   * CheckTx does not run messages: a withdraw-then-send must not be refused for a balance it brings.
   */
  bankInflow?(msg: T, state: KVReader, collateralChange?: CollateralChange): { address: string; amount: bigint } | undefined;
  /**
   * How this message changes subaccount collateral when it succeeds (a deposit adds, a withdrawal or the
   * source of a transfer takes, a transfer's arrival adds no more than its source holds, with the pending
   * changes counted): CheckTx and the proposer count these against `bankInflow`'s cap, so two
   * pending withdrawals of the same collateral are not both credited, and a deposit or a transfer earlier in
   * the tx backs a withdrawal after it.
   */
  collateralFlows?(msg: T, state: KVReader, collateralChange: CollateralChange): Array<{ owner: string; number: number; amount: bigint }>;
  /** True when only the block proposer may inject this message (oracle votes). */
  readonly protocolOnly?: boolean;
}

/** Pending change of a subaccount's collateral that CheckTx and the proposer count (messages not run yet). */
export type CollateralChange = (owner: string, number: number) => bigint;

/** A message's response, packed into the tx result's data as cosmos TxMsgData.msg_responses. */
export interface MsgResponse {
  typeUrl: string;
  value: Uint8Array;
}

/** An invariant: returns a list of broken facts (empty when it holds). */
export interface Invariant {
  readonly name: string;
  check(state: KVReader): string[];
}

export interface QueryHandler {
  (state: KVReader, args: string[], data: Uint8Array): unknown;
}

/**
 * A module as the App sees it. Modules own their store prefix (`<name>/`) and
 * reach other modules only through keepers passed in at construction.
 */
export interface AppModule {
  readonly name: string;
  readonly msgs?: readonly MsgDef[];
  readonly errors?: readonly ErrorDef[];
  /** Path handlers: "<name>/<path>/<arg>…" is routed to queries[path](state, args). */
  readonly queries?: Readonly<Record<string, QueryHandler>>;
  readonly invariants?: readonly Invariant[];
  defaultGenesis(): unknown;
  /** Validate and write genesis state (throws on invalid input). */
  initGenesis(ctx: Ctx, genesis: unknown): void;
  exportGenesis(state: KVReader): unknown;
  beginBlock?(ctx: Ctx): void;
  endBlock?(ctx: Ctx): void;
  /** Rebuild in-memory structures from committed state (startup, abandoned block). */
  load?(state: KVReader): void;
  /** The pending block was committed: in-memory structures may drop their undo information; read-side caches may take the block's events. */
  commit?(block: CommittedBlock): void;
}
