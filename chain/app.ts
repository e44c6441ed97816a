import { hash } from 'node:crypto';
import { z } from 'zod';
import { perpchain } from '../proto/gen/perpchain.js';
import { EventSink, Journal, type Ctx, type ExecMode } from './context.js';
import { ChainError, ErrInternal, registerError } from './errors/index.js';
import { ErrBlockGasExceeded, ErrProtocolTxOnly, ErrTxTooLarge } from './errors/tx.js';
import { GasKV, GasMeter, InfiniteGasMeter } from './gas/index.js';
import type { AppModule, Invariant, MsgDef, MsgResponse } from './module.js';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { buildModules, type Keepers } from './app-modules.js';
import { Branch } from './store/branch.js';
import { CommittedState } from './store/committed.js';
import { MerkleIndex, isLatin1, withLeafHashes, type MerkleProof } from './store/merkle.js';
import { SqliteStore, type Durability } from './store/sqlite.js';
import { tableOf, type KVReader, type Value } from './store/kv.js';
import { SigCache } from './crypto/sig-cache.js';
import { VerifyPool, type VerifyItem } from './crypto/verify-pool.js';
import { decodeTx, signBytes, txHash, type DecodedTx } from './tx/decode.js';
import { encodeTxMsgData } from './tx/tx-msg-data.js';
import { checkTxSize, feeAmount, runAnte, type AnteDeps } from './tx/ante.js';
import { toLong } from './codec/long.js';
import { TxBody, AuthInfo, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import {
  checkInjected,
  decodeVoteExtension,
  encodeVoteExtension,
  injectedFromProto,
  injectedToProto,
  injectedVotes,
  fitInjectedVotes,
  MAX_PRICES_PER_EXTENSION,
  validatorAddress,
  type InjectedVote,
  type ValidatorKey,
} from './oracle/vote-extensions.js';
import { MSG_INJECT_PRICES_URL } from '../modules/prices/index.js';
import type {
  AbciEvent,
  CheckTxRequest,
  CheckTxResult,
  CommitResult,
  CommittedBlock,
  ConsensusParams,
  ExecTxResult,
  ExtendVoteRequest,
  FinalizeBlockRequest,
  FinalizeBlockResult,
  InfoResult,
  InitChainRequest,
  InitChainResult,
  PrepareProposalRequest,
  ProcessProposalRequest,
  ProposalStatus,
  QueryRequest,
  QueryResult,
  VerifyVoteExtensionRequest,
} from './types.js';

export const ErrUnknownQuery = registerError('query', 2, 'unknown_query', 'unknown query path');
export const ErrQueryHeight = registerError('query', 3, 'query_height', 'height not available');
export const ErrProofPending = registerError('query', 5, 'proof_unavailable', 'proof unavailable while a block awaits Commit; retry');

export const APP_VERSION = 1n;
/** Decoded txs kept for reuse between CheckTx, proposals and FinalizeBlock. */
const DECODED_TX_CACHE = 50_000;
export const SOFTWARE_VERSION = '0.1.0';

/** State keys owned by the App itself (not a module). */
const VALIDATOR_TABLE = 'app/val/';
const CONSENSUS_PARAMS_KEY = 'app/consensus/';
import { LAST_BLOCK_TIME_KEY } from './block-time.js';
import { PendingCollateral } from './pending-collateral.js';
import { SnapshotRestorer, type ApplyOutcome, type OfferOutcome, type RestoredState, type SnapshotInfo, type SnapshotStore } from './snapshot/index.js';

export const DEFAULT_CONSENSUS_PARAMS: ConsensusParams = {
  block: { maxBytes: 22_020_096n, maxGas: 200_000_000n },
  abci: { voteExtensionsEnableHeight: 0n },
};

export interface AppOptions {
  /** sqlite file of the committed state; omit for an in-memory App (tests, simulator). */
  dbPath?: string;
  durability?: Durability;
  /** Keep a block log (the txs of every block) for `perpchain verify`. Default: on when dbPath is set. */
  blockLog?: boolean;
  /** Blocks of history CometBFT must keep (Commit's retain_height); 0 = keep all. */
  retainBlocks?: bigint;
  /** Run every module invariant after every block and throw InvariantBroken when one fails. */
  checkInvariantsEveryBlock?: boolean;
  /** Worker pool for parallel signature verification. */
  verifyPool?: VerifyPool;
  /** Receives the stack of each unexpected (untyped) error a tx ran into; the tx itself gets ErrInternal. */
  log?: (line: string) => void;
  /**
   * Read the stored state on a worker thread while this one builds the maps
   * and the Merkle index (App.open). Default 'auto': when the file is larger
   * than 32 MiB (about 100,000 accounts); below that a thread costs more than
   * it saves.
   */
  loadThread?: boolean | 'auto';
  /**
   * Progress of App.open's load of the stored state (millions of entries take
   * seconds): called every 65,536 entries, then once with done. No clock here
   * (consensus code): the driver times and throttles what it prints.
   */
  onLoadProgress?: (p: LoadProgress) => void;
  /**
   * Copy the WAL into the database file on a thread of its own (after each
   * merge: 100+ ms at 1,000,000 accounts) instead of on the caller's. For
   * drivers that serve requests between blocks (the devnet node, the ABCI
   * server); default off.
   */
  walThread?: boolean;
  /** Snapshots this node offers to state-syncing peers (ListSnapshots, LoadSnapshotChunk); none when omitted. */
  snapshots?: SnapshotStore;
  /**
   * The chain this node belongs to, as its operator said (the home's genesis): a snapshot offered for
   * state sync must be of this chain. Without it state sync is refused (every offer aborted): the chain id
   * is not in the app hash, so a snapshot's own is only a peer's word.
   */
  stateSyncChainId?: string;
  /** The chain's initial height, from the same genesis: a snapshot claiming another is refused (it is not in the app hash either). */
  stateSyncInitialHeight?: bigint;
}

export interface LoadProgress {
  /** Entries loaded so far. */
  entries: number;
  /** Set on the last call: the state is loaded and its root equals the committed app hash. */
  done?: true;
}

/** App.open reads the state on a worker thread from this file size up (loadThread 'auto'). */
const LOAD_THREAD_MIN_BYTES = 32 * 2 ** 20;

export class InvariantBrokenError extends Error {
  constructor(
    readonly height: bigint,
    readonly broken: Array<{ invariant: string; problems: string[] }>,
  ) {
    super(
      `invariant broken at height ${height}:\n` +
        broken.map((b) => `  ${b.invariant}:\n${b.problems.map((p) => `    - ${p}`).join('\n')}`).join('\n'),
    );
  }
}

interface PendingBlock {
  height: bigint;
  timeNs: bigint;
  state: Branch;
  journal: Journal;
  /** Sorted change set with each new value's Merkle leaf (hashed once, used by the app hash and by Commit). */
  changes: Array<[string, Value | null, Uint8Array | null]>;
  appHash: Uint8Array;
  record: Uint8Array | undefined;
  txs: Uint8Array[];
  /** txHash of each tx, computed once in FinalizeBlock (decode, Commit's block record and listeners use it). */
  txHashes: string[];
  txResults: ExecTxResult[];
  events: AbciEvent[];
}

const GenesisDocSchema = z.record(z.string(), z.unknown());

/**
 * The deterministic state machine. Its public methods mirror ABCI 2.0; the
 * devnet producer, the ABCI socket server and the simulator all drive it
 * through them and nothing else.
 *
 * State lives in three layers: the committed state (in memory, mirrored in
 * sqlite), the pending block (a Branch written by FinalizeBlock, persisted by
 * Commit) and one Branch per tx. CheckTx runs on its own branch of the
 * committed state, reset at every Commit.
 */
export class App {
  readonly modules: AppModule[];
  readonly keepers: Keepers;
  private readonly routes = new Map<string, MsgDef>();
  private readonly committed = new CommittedState();
  private merkle = new MerkleIndex();
  private readonly db: SqliteStore | undefined;
  private readonly sigCache = new SigCache();
  private readonly listeners: Array<(b: CommittedBlock) => void> = [];
  private readonly decoded = new Map<string, DecodedTx>();
  /** State sync: the snapshot being restored into this (empty) App, if any. */
  private readonly restorer = new SnapshotRestorer();

  private chainIdValue = '';
  private lastHeight = 0n;
  private lastAppHash: Uint8Array = new Uint8Array();
  /** InitChain's writes, applied at the start of the first block (persisted by its Commit). */
  private genesisWrites: Map<string, Value | null> | undefined;
  private initialHeightValue = 1n;
  private pending: PendingBlock | undefined;
  private checkState: Branch;
  /**
   * What admitted pending txs' messages add to (withdrawals, MsgDef.bankInflow) or take from (sends and
   * deposits, MsgDef.bankOutflow) each signer's bank balance, which the check state does not apply; the
   * prechecks count it. Reset with the check state (the recheck rebuilds it in mempool order).
   */
  private checkBankNet = new Map<string, bigint>();
  private checkCollateral = new PendingCollateral();
  private consensusCache: ConsensusParams | undefined;
  private oracleSource: (() => ReadonlyArray<{ marketId: number; price: bigint }>) | undefined;

  private constructor(private readonly opts: AppOptions) {
    const set = buildModules();
    this.modules = set.modules;
    this.keepers = set.keepers;
    for (const m of this.modules) {
      for (const def of m.msgs ?? []) {
        if (this.routes.has(def.typeUrl)) throw new Error(`message ${def.typeUrl} registered twice`);
        this.routes.set(def.typeUrl, def);
      }
    }
    this.db = opts.dbPath ? new SqliteStore(opts.dbPath, { durability: opts.durability ?? 'normal', walThread: opts.walThread ?? false }) : undefined;
    this.checkState = new Branch(this.committed);
  }

  /** Open an App; with a dbPath, load the last committed state from it. */
  static open(opts: AppOptions = {}): App {
    const app = new App(opts);
    try {
      app.loadFromDisk();
    } catch (e) {
      app.close();
      // sqlite's own errors ("database disk image is malformed") do not say which file
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_')) throw new Error(`${opts.dbPath}: ${(e as Error).message}`);
      throw e;
    }
    return app;
  }

  private loadFromDisk(): void {
    if (!this.db) return;
    const last = this.db.lastCommitted();
    this.lastHeight = last.height;
    this.lastAppHash = last.appHash;
    this.chainIdValue = this.db.meta('chain_id')?.toString() ?? '';
    const ih = this.db.meta('initial_height');
    if (ih) this.initialHeightValue = BigInt(ih.toString());
    // The committed height and hash must agree with the block log (one transaction writes all three): a
    // changed height loaded "fine" and then overwrote the logged blocks above it.
    const logged = this.db.lastBlockHeight();
    if (logged !== undefined && logged > this.lastHeight) throw new Error(`store is corrupt: the block log holds height ${logged}, above the committed height ${this.lastHeight}`);
    const rec = this.lastHeight > 0n ? this.db.block(this.lastHeight) : undefined;
    if (rec && !Buffer.from(decodeBlockRecord(rec).appHash).equals(this.lastAppHash)) {
      throw new Error(`store is corrupt: the committed app hash ${Buffer.from(this.lastAppHash).toString('hex')} is not the one logged for height ${this.lastHeight}`);
    }
    if (this.lastHeight === 0n) return;
    const thread = this.opts.loadThread ?? 'auto';
    const progress = this.opts.onLoadProgress;
    let entries = 0;
    for (const row of this.db.loadAll({ thread: thread === 'auto' ? this.db.fileBytes() >= LOAD_THREAD_MIN_BYTES : thread })) {
      this.merkle.loadLeaf(row.key, row.leaf);
      this.committed.load(row.key, new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength));
      if ((++entries & 65_535) === 0) progress?.({ entries });
    }
    this.merkle.rebuild();
    const root = this.merkle.root();
    if (!root.equals(this.lastAppHash)) {
      throw new Error(
        `store is corrupt: state on disk hashes to ${root.toString('hex')} but height ${this.lastHeight} committed ${Buffer.from(this.lastAppHash).toString('hex')}`,
      );
    }
    for (const m of this.modules) m.load?.(this.committed);
    this.resetCheckState(this.committed);
    progress?.({ entries, done: true });
  }

  close(): void {
    this.db?.close();
  }

  get chainId(): string {
    return this.chainIdValue;
  }

  get height(): bigint {
    return this.lastHeight;
  }

  /** The chain's first height (genesis initial_height). */
  get initialHeight(): bigint {
    return this.initialHeightValue;
  }

  /** The height FinalizeBlock expects next: the genesis initial height on a fresh chain, else height + 1. */
  get nextHeight(): bigint {
    return this.lastHeight === 0n ? this.initialHeightValue : this.lastHeight + 1n;
  }

  /** Height of a block finalized but not yet committed (between FinalizeBlock and Commit), if any. */
  get pendingHeight(): bigint | undefined {
    return this.pending?.height;
  }

  get appHash(): Uint8Array {
    return this.lastAppHash;
  }

  /** Committed state, read-only (queries, the API's snapshots). */
  get state(): KVReader {
    return this.committed;
  }

  get blockStore(): SqliteStore | undefined {
    return this.db;
  }

  /** Called synchronously inside commit() with the block just made durable. */
  onCommit(listener: (b: CommittedBlock) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Called synchronously when state sync installed a restored state (ApplySnapshotChunk's last chunk): the
   * committed state changed without a Commit, so what onCommit listeners derive from it is stale.
   */
  onRestore(listener: (height: bigint) => void): () => void {
    this.restoreListeners.push(listener);
    return () => {
      const i = this.restoreListeners.indexOf(listener);
      if (i >= 0) this.restoreListeners.splice(i, 1);
    };
  }
  private readonly restoreListeners: Array<(height: bigint) => void> = [];

  // ---------------------------------------------------------------- handshake

  info(): InfoResult {
    return {
      data: 'perpchain',
      version: SOFTWARE_VERSION,
      appVersion: APP_VERSION,
      lastBlockHeight: this.lastHeight,
      lastBlockAppHash: this.lastAppHash,
    };
  }

  initChain(req: InitChainRequest): InitChainResult {
    if (this.lastHeight > 0n) throw new Error(`InitChain on a chain already at height ${this.lastHeight}`);
    if (!req.chainId) throw new Error('InitChain needs a chain id');
    let appState: Record<string, unknown> = {};
    if (req.appStateBytes.length > 0) {
      const text = Buffer.from(req.appStateBytes).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new Error(`genesis app_state is not JSON: ${(e as Error).message}`);
      }
      const r = GenesisDocSchema.safeParse(parsed);
      if (!r.success) throw new Error('genesis app_state must be a JSON object keyed by module name');
      appState = r.data;
    }
    for (const key of Object.keys(appState)) {
      if (!this.modules.some((m) => m.name === key)) throw new Error(`genesis app_state has unknown module "${key}"`);
    }
    this.chainIdValue = req.chainId;
    this.initialHeightValue = req.initialHeight > 0n ? req.initialHeight : 1n;
    const branch = new Branch(this.committed);
    const params = req.consensusParams ?? DEFAULT_CONSENSUS_PARAMS;
    branch.set(CONSENSUS_PARAMS_KEY, encodeConsensusParams(params));
    branch.set(LAST_BLOCK_TIME_KEY, Buffer.from(req.timeNs.toString()));
    for (const v of req.validators ?? []) {
      const addr = Buffer.from(validatorAddress({ type: v.pubKeyType, pubKey: v.pubKeyBytes })).toString('hex').toUpperCase();
      branch.set(VALIDATOR_TABLE + addr, Buffer.from(JSON.stringify({ type: v.pubKeyType, pub_key: Buffer.from(v.pubKeyBytes).toString('base64'), power: v.power.toString() })));
    }
    const ctx = this.makeCtx(branch, 'genesis', this.initialHeightValue - 1n, req.timeNs, new Journal(), new EventSink(), new InfiniteGasMeter());
    for (const m of this.modules) m.initGenesis(ctx, appState[m.name] ?? m.defaultGenesis());
    for (const m of this.modules) m.load?.(branch);
    this.genesisWrites = new Map(branch.writes);
    this.consensusCache = undefined;
    this.db?.setMeta('chain_id', Buffer.from(req.chainId));
    // what InitChain received, as received (under CometBFT: its genesis time, validators and params, not the
    // home's own genesis.json): `perpchain verify` replays from it
    this.db?.setMeta('init_chain', encodeInitChainRecord(req));
    this.db?.setMeta('initial_height', Buffer.from(this.initialHeightValue.toString()));
    // The genesis state's hash; the first block's Commit persists it together with block 1.
    const preview = new MerkleIndex();
    preview.update(branch.changeSet());
    this.resetCheckState(branch);
    // The App never changes the validator set: an empty list tells CometBFT to keep the genesis validators.
    return { appHash: preview.root(), consensusParams: params, validators: [] };
  }

  /** Export the committed state as a genesis app_state (JSON object keyed by module). */
  exportGenesis(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const m of this.modules) out[m.name] = m.exportGenesis(this.committed);
    return out;
  }

  // ----------------------------------------------------------------- mempool

  private resetCheckState(base: KVReader): void {
    this.checkState = new Branch(base);
    this.checkBankNet = new Map();
    this.checkCollateral = new PendingCollateral();
  }

  /**
   * CheckTx (new and recheck): size, decode and the full ante handler on the
   * check state, then each message's read-only precheck. Nothing here touches
   * block state.
   */
  checkTx(req: CheckTxRequest): CheckTxResult {
    const branch = new Branch(this.checkState);
    const journal = new Journal();
    const events = new EventSink();
    let gasLimit = 0n;
    const meterHolder: { meter: GasMeter } = { meter: new GasMeter(0) };
    try {
      checkTxSize(req.tx.length, this.keepers.auth.getParams(this.checkState).maxTxBytes);
      // a tx that no block can hold would sit at the head of the mempool forever
      const maxBlockBytes = this.consensusParams().block.maxBytes;
      if (maxBlockBytes > 0n && BigInt(protoSizeInBlock(req.tx.length)) > maxBlockBytes) {
        throw ErrTxTooLarge(`${req.tx.length} bytes do not fit in a block of at most ${maxBlockBytes} bytes (consensus param block.max_bytes)`);
      }
      const tx = this.decode(req.tx);
      if (tx.msgs.some((m) => m.def.protocolOnly)) throw ErrProtocolTxOnly('only a block proposer can include this message');
      gasLimit = tx.gasLimit;
      meterHolder.meter = new GasMeter(Number(clampGas(tx.gasLimit)));
      const height = this.lastHeight + 1n;
      const ctx = this.makeCtx(branch, req.type === 'new' ? 'check' : 'recheck', height, this.lastTimeNs(), journal, events, meterHolder.meter);
      runAnte(this.anteDeps(), ctx, tx);
      // on recheck too: a tx the last block made surely fail (its sender's own earlier send spent the balance it
      // needs, its market halted) leaves the mempool before it costs a fee
      const probe = new Branch(branch);
      // the signer's pending txs and this tx's earlier messages: sends and deposits take from its balance, a
      // withdrawal to itself adds what its subaccount holds (the check state applies neither)
      const signer = tx.signer;
      let txNet = 0n;
      const pendingBank = (a: string) => (this.checkBankNet.get(a) ?? 0n) + (a === signer ? txNet : 0n);
      const pctx: Ctx = { ...ctx, store: new GasKV(probe, meterHolder.meter), pendingBank };
      const collateral = this.checkCollateral;
      collateral.beginTx();
      for (const m of tx.msgs) {
        m.def.precheck?.(pctx, m.value);
        txNet -= m.def.bankOutflow?.(m.value) ?? 0n;
        const inflow = m.def.bankInflow?.(m.value, probe, collateral.change);
        if (inflow && inflow.address === signer) txNet += inflow.amount;
        collateral.add(m.def.collateralFlows?.(m.value, probe, collateral.change));
      }
      branch.write();
      if (txNet !== 0n) this.checkBankNet.set(signer, (this.checkBankNet.get(signer) ?? 0n) + txNet);
      collateral.admit();
      // Written out, not `{ ...okResult(), sender, sequence }`: a spread that adds new properties takes V8's slow path (~1.5 µs).
      return { code: 0, codespace: '', log: '', data: NO_BYTES, gasWanted: gasLimit, gasUsed: BigInt(meterHolder.meter.consumed), events: events.events, sender: tx.signer, sequence: tx.sequence };
    } catch (e) {
      journal.revert();
      return errorResult(e, gasLimit, meterHolder.meter.consumed, this.opts.log);
    }
  }

  /**
   * Verify the signatures of many txs in parallel (worker threads) and cache
   * the valid ones, so the CheckTx/FinalizeBlock that follow skip the
   * verification. Purely an accelerator: results are identical without it.
   */
  async prefetchSignatures(txs: readonly Uint8Array[]): Promise<void> {
    const pool = this.opts.verifyPool;
    if (!pool || txs.length === 0) return;
    const items: VerifyItem[] = [];
    const keys: Array<[txHash: string, accountNumber: bigint]> = [];
    const state: KVReader = this.pending?.state ?? this.checkState;
    for (const bytes of txs) {
      let tx: DecodedTx;
      try {
        tx = this.decode(bytes);
      } catch {
        continue;
      }
      if (tx.msgs.some((m) => m.def.protocolOnly)) continue;
      const acc = this.keepers.auth.getAccount(state, tx.signer);
      const pub = acc?.pubKey ?? tx.pubKey;
      if (!acc || !pub) continue;
      if (this.sigCache.has(tx.hash, acc.accountNumber)) continue;
      items.push({ sig: tx.signature, digest: hash('sha256', signBytes(tx.raw, this.chainIdValue, acc.accountNumber), 'buffer'), pubKey: pub });
      keys.push([tx.hash, acc.accountNumber]);
    }
    const ok = await pool.verify(items);
    ok.forEach((v, i) => v && this.sigCache.add(...keys[i]!));
  }

  // --------------------------------------------------------------- proposals

  /**
   * Order and trim the mempool's txs to the block's byte and gas limits (in
   * the order given: the mempool's order is FIFO per sender). Modules that
   * inject protocol txs (oracle) put theirs first.
   */
  prepareProposal(req: PrepareProposalRequest): { txs: Uint8Array[] } {
    const out: Uint8Array[] = [];
    let bytes = 0n;
    let gas = 0n;
    const maxGas = this.consensusParams().block.maxGas;
    const injected = this.injectProtocolTxs(req);
    // A sender whose tx did not fit gets none of its later txs into this block: they follow it in sequence
    // order, and taking a later one without it would fail that one in the block (wrong sequence).
    const heldBack = new Set<string>();
    // What each sender's txs in this block take from its bank balance (fees, sends, deposits), against its
    // committed balance: CheckTx charges fees but runs no message, so a sender could pass CheckTx with a tx
    // whose fee its own earlier tx in the block spends; that tx then fails its fee in the block, pays
    // nothing, and its gas limit took the block's gas for free. Such a tx waits for a later block (where
    // the recheck after this one refuses it); so does a tx paid for by a transfer in this same block.
    const spent = new Map<string, bigint>();
    const collateral = new PendingCollateral(); // (what a withdrawal can add: as in CheckTx)
    const state = this.latestState();
    for (const tx of [...injected, ...req.txs]) {
      const size = BigInt(protoSizeInBlock(tx.length));
      let wanted = 0n;
      let signer = '';
      let spend = 0n;
      if (!injected.includes(tx)) {
        let need = 0n;
        try {
          const d = this.decode(tx);
          if (d.msgs.some((m) => m.def.protocolOnly)) continue; // only the proposer injects these
          wanted = d.gasLimit;
          signer = d.signer;
          // The most the tx's messages take from the balance at any point (a send after a withdrawal to the
          // signer is covered by it), and what they leave spent for the signer's later txs: never less than
          // nothing, so no later tx counts on a withdrawal that may fail.
          let run = 0n;
          let peak = 0n;
          collateral.beginTx();
          for (const m of d.msgs) {
            run += m.def.bankOutflow?.(m.value) ?? 0n;
            if (run > peak) peak = run;
            const inflow = m.def.bankInflow?.(m.value, state, collateral.change);
            if (inflow && inflow.address === signer) run -= inflow.amount;
            collateral.add(m.def.collateralFlows?.(m.value, state, collateral.change));
          }
          const fee = feeAmount(d);
          need = fee + peak;
          spend = fee + (run > 0n ? run : 0n);
        } catch {
          continue; // undecodable, or a fee or amount the ante would refuse: an honest proposer does not propose it
        }
        if (heldBack.has(signer)) continue;
        const before = spent.get(signer) ?? 0n;
        if (before + need > this.keepers.bank.balance(state, signer)) {
          heldBack.add(signer);
          continue;
        }
        spend += before;
      }
      if (bytes + size > req.maxTxBytes || (signer && maxGas > 0n && gas + wanted > maxGas)) {
        if (signer) heldBack.add(signer);
        continue;
      }
      bytes += size;
      gas += wanted;
      if (signer) {
        spent.set(signer, spend);
        collateral.admit();
      }
      out.push(tx);
    }
    return { txs: out };
  }

  /**
   * Reject what an honest proposer could not have made: txs that do not
   * decode, protocol txs out of place or inconsistent with the votes,
   * more gas than the block allows.
   */
  processProposal(req: ProcessProposalRequest): ProposalStatus {
    const maxGas = this.consensusParams().block.maxGas;
    let gas = 0n;
    if (this.voteExtensionsEnabled(req.height - 1n) && req.txs.length === 0) return 'reject'; // the oracle votes must come first
    for (let i = 0; i < req.txs.length; i++) {
      let tx: DecodedTx;
      try {
        tx = this.decode(req.txs[i]!);
      } catch {
        return 'reject';
      }
      const protocol = tx.msgs.some((m) => m.def.protocolOnly);
      if (protocol && (i !== 0 || !this.validProtocolTx(tx, req))) return 'reject';
      if (!protocol && i === 0 && this.voteExtensionsEnabled(req.height - 1n)) return 'reject';
      if (!protocol) gas += tx.gasLimit;
    }
    if (maxGas > 0n && gas > maxGas) return 'reject';
    return 'accept';
  }

  /**
   * The validator-local price source ExtendVote reports (a file, a CSV
   * replay, a URL: see chain/oracle/sources.ts). Outside consensus: only
   * what reaches the chain through the votes matters.
   */
  setOracleSource(source: (() => ReadonlyArray<{ marketId: number; price: bigint }>) | undefined): void {
    this.oracleSource = source;
  }

  /** Vote extensions are on for height h when the enable height is set and reached. */
  voteExtensionsEnabled(h: bigint): boolean {
    const e = this.consensusParams(this.committed).abci.voteExtensionsEnableHeight;
    return e > 0n && h >= e;
  }

  /**
   * The committed state, or before the first Commit the genesis state InitChain wrote (held back until
   * then): the first height's ExtendVote and VerifyVoteExtension run before any Commit, and reading only
   * the committed state there made every node drop the genesis markets' prices from height 1's votes.
   */
  private latestState(): KVReader {
    if (this.lastHeight !== 0n || !this.genesisWrites) return this.committed;
    if (this.genesisView?.source !== this.genesisWrites) {
      const view = new Branch(this.committed);
      for (const [k, v] of this.genesisWrites) {
        if (v === null) view.delete(k);
        else view.set(k, v);
      }
      this.genesisView = { source: this.genesisWrites, view };
    }
    return this.genesisView.view;
  }

  private genesisView: { source: Map<string, Value | null>; view: Branch } | undefined;

  private knownMarket = (id: number): boolean => this.keepers.prices.getPrice(this.latestState(), id) !== undefined;

  private validatorKey = (address: Uint8Array): ValidatorKey | undefined => {
    const b = this.latestState().get(VALIDATOR_TABLE + Buffer.from(address).toString('hex').toUpperCase());
    if (!b) return undefined;
    const j = JSON.parse(Buffer.from(b).toString()) as { type: 'ed25519' | 'secp256k1'; pub_key: string; power: string };
    return { type: j.type, pubKey: Buffer.from(j.pub_key, 'base64'), power: BigInt(j.power) };
  };

  /** The proposer puts the previous height's extended commit first (MsgInjectPrices), when vote extensions are on. */
  protected injectProtocolTxs(req: PrepareProposalRequest): Uint8Array[] {
    const h = req.height - 1n;
    if (!this.voteExtensionsEnabled(h)) return [];
    const encode = (votes: InjectedVote[]) => encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(h, req.localLastCommit.round, votes)).finish());
    let votes = injectedVotes(req.localLastCommit, h, this.chainIdValue, this.validatorKey, this.knownMarket);
    let tx = encode(votes);
    // The oracle tx must fit the block, or no proposal of this height is ever accepted (ProcessProposal
    // requires it first): the largest extensions are left out while more than 2/3 of the power stays
    // behind the rest, and failing that all of them (an oracle-less block).
    const excess = BigInt(protoSizeInBlock(tx.length)) - req.maxTxBytes;
    if (excess > 0n) {
      votes = fitInjectedVotes(votes, excess);
      tx = encode(votes);
      if (BigInt(protoSizeInBlock(tx.length)) > req.maxTxBytes) tx = encode(fitInjectedVotes(votes, null));
    }
    return [tx];
  }

  protected validProtocolTx(tx: DecodedTx, req: ProcessProposalRequest): boolean {
    const h = req.height - 1n;
    if (!this.voteExtensionsEnabled(h) || tx.msgs.length !== 1 || tx.msgs[0]!.typeUrl !== MSG_INJECT_PRICES_URL) return false;
    const why = checkInjected(injectedFromProto(tx.msgs[0]!.value as perpchain.prices.v1.IMsgInjectPrices), req.proposedLastCommit, h, this.chainIdValue, this.validatorKey, this.knownMarket);
    if (why) this.opts.log?.(`ProcessProposal ${req.height}: rejecting the injected oracle votes: ${why}`);
    return why === undefined;
  }

  extendVote(req: ExtendVoteRequest): { voteExtension: Uint8Array } {
    if (!this.oracleSource || !this.voteExtensionsEnabled(req.height)) return { voteExtension: new Uint8Array() };
    let prices: ReadonlyArray<{ marketId: number; price: bigint }> = [];
    try {
      prices = this.oracleSource();
    } catch (e) {
      this.opts.log?.(`ExtendVote ${req.height}: price source failed (${(e as Error).message}); sending no prices`);
    }
    const ok = prices.filter((p) => this.knownMarket(p.marketId) && p.price > 0n && p.price <= BigInt(Number.MAX_SAFE_INTEGER)).slice(0, MAX_PRICES_PER_EXTENSION);
    const seen = new Set<number>();
    return { voteExtension: encodeVoteExtension(ok.filter((p) => !seen.has(p.marketId) && seen.add(p.marketId))) };
  }

  verifyVoteExtension(req: VerifyVoteExtensionRequest): 'accept' | 'reject' {
    if (req.voteExtension.length === 0) return 'accept';
    return decodeVoteExtension(req.voteExtension, this.knownMarket) === undefined ? 'reject' : 'accept';
  }

  // ----------------------------------------------------------------- blocks

  /** FinalizeBlock with the block's signatures verified in parallel first. */
  async finalizeBlockAsync(req: FinalizeBlockRequest): Promise<FinalizeBlockResult> {
    await this.prefetchSignatures(req.txs);
    return this.finalizeBlock(req);
  }

  /**
   * Execute a decided block: begin-block hooks, every tx in order, end-block
   * hooks, then the new app hash. Nothing is persisted until commit(). A
   * second FinalizeBlock for the same height (CometBFT replaying after its own
   * crash) first abandons the pending one.
   */
  finalizeBlock(req: FinalizeBlockRequest): FinalizeBlockResult {
    if (this.pending) {
      if (this.pending.height !== req.height) throw new Error(`FinalizeBlock ${req.height} while block ${this.pending.height} awaits Commit`);
      this.abandonPending();
    }
    const expected = this.lastHeight === 0n ? this.initialHeightValue : this.lastHeight + 1n;
    if (req.height !== expected) throw new Error(`FinalizeBlock for height ${req.height}, expected ${expected}`);
    if (!this.chainIdValue) throw new Error('FinalizeBlock before InitChain');

    const state = new Branch(this.committed);
    if (this.lastHeight === 0n) {
      if (!this.genesisWrites) throw new Error('first block without InitChain');
      for (const [k, v] of this.genesisWrites) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    }
    const journal = new Journal();
    const blockEvents = new EventSink();
    state.set(LAST_BLOCK_TIME_KEY, Buffer.from(req.timeNs.toString()));

    const phase = (mode: ExecMode, hook: 'beginBlock' | 'endBlock') => {
      const events = new EventSink();
      const ctx = this.makeCtx(state, mode, req.height, req.timeNs, journal, events, new InfiniteGasMeter(), req.proposerAddress);
      for (const m of this.modules) m[hook]?.(ctx);
      for (const e of events.events) e.attributes.push({ key: 'mode', value: mode === 'begin_block' ? 'BeginBlock' : 'EndBlock', index: false });
      blockEvents.append(events.events);
    };

    phase('begin_block', 'beginBlock');
    const txResults: ExecTxResult[] = [];
    const txHashes = req.txs.map(txHash);
    const maxGas = this.consensusParams(state).block.maxGas;
    let blockGas = 0n;
    for (let i = 0; i < req.txs.length; i++) {
      const r = this.deliverTx(state, journal, req, i, txHashes[i]!, maxGas - blockGas, maxGas > 0n);
      blockGas += r.gasWanted;
      txResults.push(r);
    }
    phase('end_block', 'endBlock');

    const changes = withLeafHashes(state.changeSet());
    this.merkle.updateLeaves(changes);
    const appHash = this.merkle.root();
    const record = this.db && this.opts.blockLog !== false ? encodeBlockRecord(req, appHash) : undefined;
    this.pending = { height: req.height, timeNs: req.timeNs, state, journal, changes, appHash, record, txs: req.txs, txHashes, txResults, events: blockEvents.events };

    if (this.opts.checkInvariantsEveryBlock) {
      const broken = this.runInvariants(state);
      if (broken.length) {
        // Halt without leaving the block pending: a driver that called Commit anyway must not persist it.
        this.abandonPending();
        throw new InvariantBrokenError(req.height, broken);
      }
    }
    return { events: blockEvents.events, txResults, validatorUpdates: [], appHash };
  }

  private deliverTx(state: Branch, blockJournal: Journal, req: FinalizeBlockRequest, index: number, hash: string, gasLeft: bigint, gasLimited: boolean): ExecTxResult {
    const bytes = req.txs[index]!;
    const anteBranch = new Branch(state);
    const journal = new Journal();
    const events = new EventSink();
    let meter = new GasMeter(0);
    let gasWanted = 0n;
    let tx: DecodedTx;
    // decode and ante: all or nothing (a tx that fails here changes nothing and pays nothing)
    try {
      // The user-tx size limit does not bind the proposer's tx 0 (the oracle votes grow with the validator
      // set; ProcessProposal has checked it): past index 0 it is checked before anything is decoded.
      const maxTxBytes = this.keepers.auth.getParams(state).maxTxBytes;
      if (index !== 0) checkTxSize(bytes.length, maxTxBytes);
      try {
        tx = this.decode(bytes, hash);
      } catch (e) {
        if (index === 0) checkTxSize(bytes.length, maxTxBytes); // an oversized tx 0 that is not even a tx: say so first
        throw e;
      }
      gasWanted = tx.gasLimit;
      const protocol = tx.msgs.some((m) => m.def.protocolOnly);
      if (index === 0 && !protocol) checkTxSize(bytes.length, maxTxBytes);
      if (protocol) {
        if (index !== 0) throw ErrProtocolTxOnly('a protocol tx must be the first tx of the block');
        meter = new InfiniteGasMeter();
        const ctx = this.makeCtx(new GasKV(anteBranch, meter), 'deliver', req.height, req.timeNs, journal, events, meter, req.proposerAddress);
        for (const m of tx.msgs) {
          m.def.validateBasic(m.value);
          m.def.handle(ctx, m.value);
        }
        anteBranch.write();
        journal.mergeInto(blockJournal);
        return okResult(0n, 0, events.events);
      }
      if (gasLimited && gasWanted > gasLeft) throw ErrBlockGasExceeded(`tx wants ${gasWanted} gas, ${gasLeft} left in the block`);
      meter = new GasMeter(Number(clampGas(gasWanted)));
      const ctx = this.makeCtx(anteBranch, 'deliver', req.height, req.timeNs, journal, events, meter, req.proposerAddress);
      runAnte(this.anteDeps(), ctx, tx);
    } catch (e) {
      journal.revert();
      return errorResult(e, gasWanted, meter.consumed, this.opts.log);
    }
    anteBranch.write();
    const anteEvents = events.events.length;

    // messages: on failure only the ante's effects (fee, sequence) remain
    const msgBranch = new Branch(state);
    const ctx = this.makeCtx(new GasKV(msgBranch, meter), 'deliver', req.height, req.timeNs, journal, events, meter, req.proposerAddress);
    const responses: MsgResponse[] = [];
    try {
      for (let i = 0; i < tx.msgs.length; i++) {
        const m = tx.msgs[i]!;
        meter.consume(m.def.gas, `message ${m.typeUrl}`);
        const r = m.def.handle(ctx, m.value);
        if (r) responses.push(r);
      }
    } catch (e) {
      journal.revert();
      events.events.length = anteEvents;
      return { ...errorResult(e, gasWanted, meter.consumed, this.opts.log), events: events.events };
    }
    msgBranch.write();
    journal.mergeInto(blockJournal);
    const result = okResult(gasWanted, meter.consumed, events.events);
    if (responses.length) result.data = encodeTxMsgData(responses);
    return result;
  }

  /**
   * Persist the pending block: one sqlite transaction with its change set, the
   * height, the app hash and the block log entry. Then reset the check state
   * and tell listeners.
   */
  commit(): CommitResult {
    const p = this.pending;
    if (!p) throw new Error('Commit without a finalized block');
    this.db?.commit({
      height: p.height,
      appHash: p.appHash,
      changes: p.changes,
      blockRecord: p.record,
    });
    this.committed.apply(p.changes);
    this.lastHeight = p.height;
    this.lastAppHash = p.appHash;
    this.genesisWrites = undefined;
    this.pending = undefined;
    this.consensusCache = undefined;
    this.resetCheckState(this.committed);
    const block: CommittedBlock = {
      height: p.height,
      timeNs: p.timeNs,
      appHash: p.appHash,
      txs: p.txs,
      txHashes: p.txHashes,
      txResults: p.txResults,
      events: p.events,
    };
    for (const m of this.modules) m.commit?.(block);
    for (const l of this.listeners) l(block);
    const keep = this.opts.retainBlocks ?? 0n;
    return { retainHeight: keep > 0n && p.height > keep ? p.height - keep + 1n : 0n };
  }

  /**
   * Merge committed change sets from the store's log into its main table
   * (sqlite). Commit only appends the block's change set; drivers call this
   * between blocks so the merge never sits on the consensus path. Returns the
   * number of blocks merged.
   */
  checkpoint(maxBlocks?: number): number {
    return this.db?.checkpoint(maxBlocks) ?? 0;
  }

  /**
   * One bounded step of that merge: at most `maxRows` rows, in their own
   * sqlite transaction (SqliteStore.checkpointSlice). Drivers that serve
   * requests between blocks call it once per event-loop turn until `more` is
   * false, so a large change set never holds the thread for long.
   */
  checkpointSlice(maxRows: number): { rows: number; blocks: number; more: boolean } {
    return this.db?.checkpointSlice(maxRows) ?? { rows: 0, blocks: 0, more: false };
  }

  /** Drop a finalized but uncommitted block: restore the Merkle index and the modules' in-memory structures. */
  private abandonPending(): void {
    const p = this.pending;
    if (!p) return;
    this.merkle.update(p.changes.map(([k]) => [k, this.committed.get(k) ?? null]));
    p.journal.revert();
    this.pending = undefined;
    // Rebuild in-memory module structures from committed state as well: cheap insurance for a rare event.
    for (const m of this.modules) m.load?.(this.committed);
  }

  // ------------------------------------------------------------- state sync

  /** Snapshots this node offers, newest first (ABCI ListSnapshots). */
  listSnapshots(): SnapshotInfo[] {
    return this.opts.snapshots?.snapshots() ?? [];
  }

  /** One chunk of an offered snapshot; empty when this node has no such chunk (ABCI LoadSnapshotChunk). */
  loadSnapshotChunk(height: bigint, format: number, index: number): Uint8Array {
    return this.opts.snapshots?.chunk(height, format, index) ?? new Uint8Array();
  }

  /** Accept or refuse a snapshot to restore from; `appHash` is the one CometBFT's light client verified (ABCI OfferSnapshot). */
  offerSnapshot(snapshot: SnapshotInfo, appHash: Uint8Array): OfferOutcome {
    const busy = this.pending !== undefined || this.genesisWrites !== undefined;
    const out = busy
      ? { result: 'abort' as const, reason: 'the app has already started a chain (InitChain or a block): state sync only fills an empty node' }
      : this.restorer.offer(snapshot, appHash, { appHeight: this.lastHeight, chainId: this.opts.stateSyncChainId, ...(this.opts.stateSyncInitialHeight !== undefined ? { initialHeight: this.opts.stateSyncInitialHeight } : {}) });
    this.opts.log?.(`OfferSnapshot of height ${snapshot.height} (format ${snapshot.format}, ${snapshot.chunks} chunks): ${out.result}, ${out.reason}`);
    return out;
  }

  /** Apply the next chunk of the accepted snapshot; the last one installs the state (ABCI ApplySnapshotChunk). */
  applySnapshotChunk(index: number, chunk: Uint8Array, sender: string): ApplyOutcome {
    const out = this.restorer.apply(index, chunk, sender);
    if (out.result !== 'accept') this.opts.log?.(`ApplySnapshotChunk ${index}: ${out.result}, ${out.reason}`);
    if (out.restored) {
      this.installRestored(out.restored);
      this.opts.log?.(`state sync: ${out.reason}, app hash ${Buffer.from(out.restored.appHash).toString('hex').toUpperCase()}`);
    }
    return out;
  }

  /** Make a restored state the committed one: on disk in one transaction, then in memory as App.open would load it. */
  private installRestored(s: RestoredState): void {
    this.db?.replaceState({
      height: s.height,
      appHash: s.appHash,
      entries: s.entries,
      meta: { chain_id: Buffer.from(s.chainId), initial_height: Buffer.from(s.initialHeight.toString()), restored_height: Buffer.from(s.height.toString()) },
    });
    this.committed.clear();
    for (const [k, v] of s.entries) this.committed.load(k, v);
    this.merkle = s.merkle;
    this.lastHeight = s.height;
    this.lastAppHash = s.appHash;
    this.chainIdValue = s.chainId;
    this.initialHeightValue = s.initialHeight;
    this.consensusCache = undefined;
    for (const m of this.modules) m.load?.(this.committed);
    this.resetCheckState(this.committed);
    for (const l of this.restoreListeners) l(s.height);
  }

  // ------------------------------------------------------------------ query

  /**
   * Paths: "<module>/<query>/<arg>…" answered with JSON by the module;
   * "store/<key>" answered with the raw value (and a Merkle proof when
   * prove); "app/info", "app/height". Always the latest committed state.
   */
  query(req: QueryRequest): QueryResult {
    const base = { code: 0, codespace: '', log: '', key: new Uint8Array(), value: new Uint8Array(), height: this.lastHeight };
    try {
      if (req.height !== 0n && req.height !== this.lastHeight) {
        throw ErrQueryHeight(`only the latest committed height ${this.lastHeight} is served, asked for ${req.height}`);
      }
      const path = req.path.replace(/^\/+/, '');
      // CometBFT's peer filter (filter_peers = true) asks these; perpchain accepts every peer.
      if (path.startsWith('p2p/filter/addr/') || path.startsWith('p2p/filter/id/')) return base;
      if (path.startsWith('store/')) {
        const key = path.slice('store/'.length);
        // A malformed key is the asker's mistake (a registered error), not an internal one.
        try {
          tableOf(key);
        } catch {
          throw ErrUnknownQuery(`store key "${key.slice(0, 200)}" must look like <module>/<table>/<rest>`);
        }
        // The store and the app hash take a key one byte per char: a wider char would alias its low byte
        // (an answer and a proof about another key), so it is refused rather than looked up.
        if (!isLatin1(key)) throw ErrUnknownQuery(`store key "${key.slice(0, 200)}" has a character above U+00FF; state keys are one byte per character`);
        const value = this.committed.get(key);
        const proof = req.prove ? Buffer.from(JSON.stringify(this.prove(key))) : undefined;
        return { ...base, key: Buffer.from(key), value: value ?? new Uint8Array(), ...(proof ? { proof } : {}) };
      }
      if (path === 'app/info') return { ...base, value: json({ chain_id: this.chainIdValue, height: this.lastHeight.toString(), app_hash: hex(this.lastAppHash), version: SOFTWARE_VERSION }) };
      const [moduleName, name, ...args] = path.split('/');
      const m = this.modules.find((x) => x.name === moduleName);
      const handler = name ? m?.queries?.[name] : undefined;
      if (!handler) throw ErrUnknownQuery(`no query "${req.path}"`);
      let decoded: string[];
      try {
        decoded = args.map(decodeURIComponent);
      } catch {
        throw ErrUnknownQuery(`query path "${req.path.slice(0, 200)}" is not valid percent-encoding`);
      }
      return { ...base, value: json(handler(this.committed, decoded, req.data)) };
    } catch (e) {
      const r = errorResult(e, 0n, 0, this.opts.log);
      return { ...base, code: r.code, codespace: r.codespace, log: r.log };
    }
  }

  /**
   * A Merkle proof of `key` against the latest committed app hash. Between
   * FinalizeBlock and Commit the tree already holds the pending block, so a
   * proof then would not match the committed value or any header yet: it is
   * refused (CometBFT may query in that window; the caller retries).
   */
  prove(key: string): MerkleProof {
    if (this.pending) throw ErrProofPending(`block ${this.pending.height} is finalized but not committed; ask again after its Commit`);
    return this.merkle.prove(key);
  }

  // -------------------------------------------------------------- invariants

  get invariants(): Invariant[] {
    return this.modules.flatMap((m) => m.invariants ?? []);
  }

  runInvariants(state: KVReader = this.committed): Array<{ invariant: string; problems: string[] }> {
    const out: Array<{ invariant: string; problems: string[] }> = [];
    for (const inv of this.invariants) {
      const problems = inv.check(state);
      if (problems.length) out.push({ invariant: inv.name, problems });
    }
    return out;
  }

  // ----------------------------------------------------------------- helpers

  /**
   * Decode a tx, reusing the result of an earlier decode of the same bytes
   * (prefetch, CheckTx, PrepareProposal and FinalizeBlock all see the same
   * tx). Decoding is a pure function of the bytes, and the cached messages are
   * frozen, so reuse cannot change a result. Failures are not cached.
   */
  private decode(bytes: Uint8Array, hash = txHash(bytes)): DecodedTx {
    const hit = this.decoded.get(hash);
    if (hit) return hit;
    const tx = decodeTx(bytes, this.routes, hash);
    for (const m of tx.msgs) Object.freeze(m.value);
    if (this.decoded.size >= DECODED_TX_CACHE) {
      let n = DECODED_TX_CACHE >> 3;
      for (const k of this.decoded.keys()) {
        this.decoded.delete(k);
        if (--n === 0) break;
      }
    }
    this.decoded.set(hash, tx);
    return tx;
  }

  consensusParams(state: KVReader = this.pending?.state ?? this.committed): ConsensusParams {
    if (state === this.committed && this.consensusCache) return this.consensusCache;
    const b = state.get(CONSENSUS_PARAMS_KEY) ?? (this.genesisWrites?.get(CONSENSUS_PARAMS_KEY) ?? undefined);
    const p = b ? decodeConsensusParams(b) : DEFAULT_CONSENSUS_PARAMS;
    if (state === this.committed) this.consensusCache = p;
    return p;
  }

  /** The last block's time, for CheckTx contexts: parsed once per stored value, not once per tx. */
  private lastTimeNs(): bigint {
    const b = this.checkState.get(LAST_BLOCK_TIME_KEY);
    if (!b) return 0n;
    if (b !== this.lastTime?.bytes) this.lastTime = { bytes: b, ns: BigInt(Buffer.from(b).toString()) };
    return this.lastTime.ns;
  }
  private lastTime: { bytes: Uint8Array; ns: bigint } | undefined;

  /** What the ante handler needs (one object for the App's life, not one per tx). */
  private anteDeps(): AnteDeps {
    return (this.anteDepsValue ??= {
      auth: this.keepers.auth,
      bank: this.keepers.bank,
      feeCollector: this.keepers.feeCollector,
      sigCache: this.sigCache,
      maxBlockGas: () => this.consensusParams().block.maxGas,
    });
  }
  private anteDepsValue: AnteDeps | undefined;


  private makeCtx(
    store: Ctx['store'],
    mode: ExecMode,
    height: bigint,
    timeNs: bigint,
    journal: Journal,
    events: EventSink,
    gas: GasMeter,
    proposer: Uint8Array = NO_BYTES,
  ): Ctx {
    return { store, mode, chainId: this.chainIdValue, height, timeNs, timeSec: timeNs / 1_000_000_000n, proposer, gas, events, journal };
  }
}


function clampGas(g: bigint): bigint {
  return g > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : g < 0n ? 0n : g;
}

/** The empty byte string of every tx result and CheckTx context: one shared, frozen instance (nothing can write into it). */
const NO_BYTES = Object.freeze(new Uint8Array(0)) as Uint8Array;

function okResult(gasWanted: bigint, gasUsed: number, events: AbciEvent[]): ExecTxResult {
  return { code: 0, codespace: '', log: '', data: NO_BYTES, gasWanted, gasUsed: BigInt(gasUsed), events };
}

/** A ChainError becomes its registered code; anything else is an internal error (logged, never thrown to the driver). */
function errorResult(e: unknown, gasWanted: bigint, gasUsed: number, log?: (line: string) => void): ExecTxResult {
  if (e instanceof ChainError) {
    return { code: e.code, codespace: e.codespace, log: e.message, data: NO_BYTES, gasWanted, gasUsed: BigInt(gasUsed), events: [] };
  }
  log?.(`internal error: ${(e as Error)?.stack ?? String(e)}`);
  // The message of an unexpected error can differ between machines; the log stays constant so results hash the same.
  return { code: ErrInternal.code, codespace: ErrInternal.codespace, log: ErrInternal.description, data: NO_BYTES, gasWanted, gasUsed: BigInt(gasUsed), events: [] };
}

/** Bytes a tx occupies in a block's Data (protobuf repeated bytes: tag + varint length + body). */
function protoSizeInBlock(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return 1 + len + n;
}

function encodeConsensusParams(p: ConsensusParams): Uint8Array {
  return Buffer.from(
    JSON.stringify({ block: { max_bytes: p.block.maxBytes.toString(), max_gas: p.block.maxGas.toString() }, abci: { vote_extensions_enable_height: p.abci.voteExtensionsEnableHeight.toString() } }),
  );
}

function decodeConsensusParams(b: Uint8Array): ConsensusParams {
  const j = JSON.parse(Buffer.from(b).toString()) as { block: { max_bytes: string; max_gas: string }; abci: { vote_extensions_enable_height: string } };
  return { block: { maxBytes: BigInt(j.block.max_bytes), maxGas: BigInt(j.block.max_gas) }, abci: { voteExtensionsEnableHeight: BigInt(j.abci.vote_extensions_enable_height) } };
}

/** The InitChain request as JSON (64-bit values as strings, bytes as base64), stored in the node's meta. */
export function encodeInitChainRecord(req: InitChainRequest): Buffer {
  const p = req.consensusParams;
  return Buffer.from(
    JSON.stringify({
      chain_id: req.chainId,
      time_ns: req.timeNs.toString(),
      initial_height: req.initialHeight.toString(),
      app_state: Buffer.from(req.appStateBytes).toString('base64'),
      consensus_params: p ? { max_bytes: p.block.maxBytes.toString(), max_gas: p.block.maxGas.toString(), vote_extensions_enable_height: p.abci.voteExtensionsEnableHeight.toString() } : null,
      validators: (req.validators ?? []).map((v) => ({ type: v.pubKeyType, pub_key: Buffer.from(v.pubKeyBytes).toString('base64'), power: v.power.toString() })),
    }),
  );
}

export function decodeInitChainRecord(b: Uint8Array): InitChainRequest {
  const j = JSON.parse(Buffer.from(b).toString()) as {
    chain_id: string;
    time_ns: string;
    initial_height: string;
    app_state: string;
    consensus_params: { max_bytes: string; max_gas: string; vote_extensions_enable_height: string } | null;
    validators: Array<{ type: 'ed25519' | 'secp256k1'; pub_key: string; power: string }>;
  };
  const p = j.consensus_params;
  return {
    chainId: j.chain_id,
    timeNs: BigInt(j.time_ns),
    initialHeight: BigInt(j.initial_height),
    appStateBytes: Buffer.from(j.app_state, 'base64'),
    ...(p ? { consensusParams: { block: { maxBytes: BigInt(p.max_bytes), maxGas: BigInt(p.max_gas) }, abci: { voteExtensionsEnableHeight: BigInt(p.vote_extensions_enable_height) } } } : {}),
    validators: j.validators.map((v) => ({ pubKeyType: v.type, pubKeyBytes: new Uint8Array(Buffer.from(v.pub_key, 'base64')), power: BigInt(v.power) })),
  };
}

export function encodeBlockRecord(req: FinalizeBlockRequest, appHash: Uint8Array): Uint8Array {
  return perpchain.node.v1.BlockRecord.encode({
    height: toLong(req.height),
    timeNs: req.timeNs.toString(),
    proposerAddress: req.proposerAddress,
    hash: req.hash,
    txs: req.txs,
    appHash,
  }).finish();
}

export function decodeBlockRecord(b: Uint8Array): FinalizeBlockRequest & { appHash: Uint8Array } {
  const r = perpchain.node.v1.BlockRecord.decode(b);
  return { height: BigInt(r.height.toString()), timeNs: BigInt(r.timeNs), proposerAddress: r.proposerAddress, hash: r.hash, txs: r.txs, appHash: r.appHash };
}

function json(v: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** A proposer-injected tx: one message, no signer infos, no signatures, no fee. */
export function encodeProtocolTx(typeUrl: string, value: Uint8Array): Uint8Array {
  const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [Any.fromPartial({ typeUrl, value })] })).finish();
  const authInfoBytes = AuthInfo.encode(AuthInfo.fromPartial({})).finish();
  return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [] }).finish();
}
