/**
 * The App's interface types. They mirror ABCI 2.0 (CometBFT v0.38) field for
 * field, in plain TypeScript, so every driver (devnet producer, ABCI socket
 * server, simulator) speaks the same language and none needs protobuf to
 * call the App. The ABCI server maps them to and from tendermint.abci.
 */
export interface EventAttribute {
  key: string;
  value: string;
  index: boolean;
}

export interface AbciEvent {
  type: string;
  attributes: EventAttribute[];
}

export interface ConsensusParams {
  block: { maxBytes: bigint; maxGas: bigint };
  abci: { voteExtensionsEnableHeight: bigint };
}

export interface InfoResult {
  data: string;
  version: string;
  appVersion: bigint;
  lastBlockHeight: bigint;
  lastBlockAppHash: Uint8Array;
}

export interface ValidatorUpdate {
  /** Ed25519 or secp256k1 consensus key of the validator. */
  pubKeyType: 'ed25519' | 'secp256k1';
  pubKeyBytes: Uint8Array;
  power: bigint;
}

export interface InitChainRequest {
  chainId: string;
  /** Genesis time in nanoseconds since the Unix epoch. */
  timeNs: bigint;
  initialHeight: bigint;
  appStateBytes: Uint8Array;
  consensusParams?: ConsensusParams;
  validators?: ValidatorUpdate[];
}

export interface InitChainResult {
  appHash: Uint8Array;
  consensusParams?: ConsensusParams;
  validators: ValidatorUpdate[];
}

export type CheckTxType = 'new' | 'recheck';

export interface CheckTxRequest {
  tx: Uint8Array;
  type: CheckTxType;
}

export interface TxResultBase {
  code: number;
  codespace: string;
  log: string;
  data: Uint8Array;
  gasWanted: bigint;
  gasUsed: bigint;
  events: AbciEvent[];
}

export interface CheckTxResult extends TxResultBase {
  /** Bech32 address of the signer, when the tx decoded (mempool bookkeeping). */
  sender?: string;
  sequence?: bigint;
}

export type ExecTxResult = TxResultBase;

export interface VoteInfo {
  validatorAddress: Uint8Array;
  power: bigint;
  /** CometBFT BlockIDFlag: 1 absent, 2 commit, 3 nil. */
  blockIdFlag: number;
}

export interface ExtendedVoteInfo extends VoteInfo {
  voteExtension: Uint8Array;
  extensionSignature: Uint8Array;
}

export interface CommitInfo {
  round: number;
  votes: VoteInfo[];
}

export interface ExtendedCommitInfo {
  round: number;
  votes: ExtendedVoteInfo[];
}

/** Evidence of a validator's misbehaviour as CometBFT reports it (passed through; perpchain does not slash). */
export interface Misbehavior {
  type: 'unknown' | 'duplicate_vote' | 'light_client_attack';
  validatorAddress: Uint8Array;
  power: bigint;
  height: bigint;
  timeNs: bigint;
  totalVotingPower: bigint;
}

export interface PrepareProposalRequest {
  misbehavior?: Misbehavior[];
  nextValidatorsHash?: Uint8Array;
  maxTxBytes: bigint;
  txs: Uint8Array[];
  localLastCommit: ExtendedCommitInfo;
  height: bigint;
  timeNs: bigint;
  proposerAddress: Uint8Array;
}

export interface ProcessProposalRequest {
  misbehavior?: Misbehavior[];
  nextValidatorsHash?: Uint8Array;
  txs: Uint8Array[];
  proposedLastCommit: CommitInfo;
  hash: Uint8Array;
  height: bigint;
  timeNs: bigint;
  proposerAddress: Uint8Array;
}

export type ProposalStatus = 'accept' | 'reject';

export interface ExtendVoteRequest {
  proposedLastCommit?: CommitInfo;
  misbehavior?: Misbehavior[];
  nextValidatorsHash?: Uint8Array;
  hash: Uint8Array;
  height: bigint;
  timeNs: bigint;
  txs: Uint8Array[];
  proposerAddress: Uint8Array;
}

export interface VerifyVoteExtensionRequest {
  hash: Uint8Array;
  validatorAddress: Uint8Array;
  height: bigint;
  voteExtension: Uint8Array;
}

export interface FinalizeBlockRequest {
  misbehavior?: Misbehavior[];
  nextValidatorsHash?: Uint8Array;
  txs: Uint8Array[];
  decidedLastCommit?: CommitInfo;
  hash: Uint8Array;
  height: bigint;
  timeNs: bigint;
  proposerAddress: Uint8Array;
}

export interface FinalizeBlockResult {
  events: AbciEvent[];
  txResults: ExecTxResult[];
  validatorUpdates: ValidatorUpdate[];
  consensusParamUpdates?: ConsensusParams;
  appHash: Uint8Array;
}

export interface CommitResult {
  retainHeight: bigint;
}

export interface QueryRequest {
  path: string;
  data: Uint8Array;
  /** 0 = latest committed. Only the latest committed height is served. */
  height: bigint;
  prove: boolean;
}

export interface QueryResult {
  code: number;
  codespace: string;
  log: string;
  key: Uint8Array;
  /** JSON (UTF-8) for the module query paths; raw bytes for store/ paths. */
  value: Uint8Array;
  /** Merkle proof (JSON) when prove = true on a store/ path. */
  proof?: Uint8Array;
  height: bigint;
}

/** What drivers and the read side learn when a block commits. */
export interface CommittedBlock {
  height: bigint;
  timeNs: bigint;
  appHash: Uint8Array;
  txs: Uint8Array[];
  txHashes: string[];
  txResults: ExecTxResult[];
  events: AbciEvent[];
}
