/**
 * The replay verifier (`perpchain verify`): re-execute a node's block log
 * from genesis in a fresh in-memory App and confirm every app hash the node
 * recorded — what an optimistic-rollup style challenger, an auditor or a
 * new operator does to trust a node's history without trusting the node.
 *
 * Inputs are two files a node already has:
 *   config/genesis.json   chain id, genesis time, initial height, consensus
 *                         params and app_state (the InitChain the node ran);
 *   data/state.db         the node's sqlite store: the `blocks` table (one
 *                         perpchain.node.v1.BlockRecord per height: txs, time,
 *                         proposer, block hash and the app hash the node
 *                         committed) and the node's current state.
 *
 * For every block, in height order: FinalizeBlock + Commit on the fresh App
 * and compare its app hash with the recorded one. At the end, the replayed
 * state is compared key by key with the node's current state (so a state
 * changed on disk behind a consistent log is caught too). The first height
 * where they differ is reported with what can be told about it: the tx
 * results of that block in the replay (a tx that no longer decodes or
 * verifies points at a changed tx), its events, invariants that broke, and
 * whether the replay agrees again later (only the recorded hash of that
 * height differs) or keeps differing (the state itself diverged).
 *
 * What it cannot tell: the app hash does not commit to the txs, so a changed
 * tx that has exactly the same effect (e.g. one failing tx replaced by
 * another that fails the same way) is not detected — it is also harmless to
 * the state. Under CometBFT the block hash in each record commits to the
 * txs; checking it needs the block headers (CometBFT's block store).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, InvariantBrokenError, decodeBlockRecord, decodeInitChainRecord } from '../app.js';
import { CommittedState } from '../store/committed.js';
import { SqliteStore } from '../store/sqlite.js';
import { consensusParamsOf, readGenesis, rfc3339ToNs, type GenesisDoc } from '../devnet/home.js';
import type { ExecTxResult, FinalizeBlockResult } from '../types.js';

export interface VerifyOptions {
  /** Node home: config/genesis.json and data/state.db under it. */
  home?: string;
  /** Explicit genesis file (default <home>/config/genesis.json). */
  genesis?: string;
  /** Explicit sqlite store (default <home>/data/state.db). */
  db?: string;
  /** Run every module invariant after every replayed block. */
  checkInvariants?: boolean;
  /** Stop at the first height whose app hash differs (default: keep replaying to classify the difference). */
  stopAtFirst?: boolean;
  /** Called about every `progressMs` (default 1000) while replaying. */
  onProgress?: (p: VerifyProgress) => void;
  progressMs?: number;
}

export interface VerifyProgress {
  height: bigint;
  last: bigint;
  blocks: number;
  txs: number;
  ms: number;
}

export interface TxSummary {
  index: number;
  code: number;
  codespace: string;
  log: string;
}

export interface Mismatch {
  height: bigint;
  recorded: string;
  computed: string;
  /** Replay results of that block: counts by outcome, and each failed tx. */
  outcomes: Record<string, number>;
  failed: TxSummary[];
  events: Record<string, number>;
  /** Invariants that broke on the replayed state at that height (with --check-invariants). */
  invariants?: string;
  /** "isolated": later heights agree again (only this recorded hash differs); "persistent": the replayed state diverged. */
  kind?: 'isolated' | 'persistent' | 'last';
}

export interface VerifyResult {
  ok: boolean;
  chainId: string;
  genesis: string;
  /** True when the replay started from the InitChain request recorded in the store, not from a genesis file. */
  genesisFromStore: boolean;
  db: string;
  blocks: number;
  txs: number;
  firstHeight: bigint;
  lastHeight: bigint;
  /** The node's committed height and app hash (meta). */
  nodeHeight: bigint;
  nodeAppHash: string;
  finalAppHash: string;
  /** First height where the recorded and the replayed app hash differ. */
  mismatch?: Mismatch;
  /** Heights whose recorded app hash differs from the replay (when not stopping at the first). */
  mismatchedHeights: number;
  /** Other problems: log gaps, undecodable records, a different chain, node state ≠ replayed state. */
  problems: string[];
  /** Keys whose value differs between the node's current state and the replayed state (first 20). */
  stateDiff: string[];
  ms: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/**
 * The genesis file and the store. With --home the genesis file may be missing: a home run under CometBFT
 * replays from the InitChain request its store recorded (checked once the store is open).
 */
export function resolvePaths(o: VerifyOptions): { genesis: string; db: string; genesisOptional: boolean } {
  const genesis = o.genesis ?? (o.home ? join(o.home, 'config', 'genesis.json') : undefined);
  const db = o.db ?? (o.home ? join(o.home, 'data', 'state.db') : undefined);
  if (!genesis || !db) throw new Error('give --home DIR, or both --genesis FILE and --db FILE');
  const genesisOptional = o.genesis === undefined;
  if (!genesisOptional && !existsSync(genesis)) throw new Error(`no genesis at ${genesis}`);
  if (!existsSync(db)) throw new Error(`no node store at ${db}`);
  return { genesis, db, genesisOptional };
}

function summarize(r: FinalizeBlockResult): Pick<Mismatch, 'outcomes' | 'failed' | 'events'> {
  const outcomes: Record<string, number> = {};
  const events: Record<string, number> = {};
  const failed: TxSummary[] = [];
  r.txResults.forEach((t: ExecTxResult, index) => {
    const k = t.code === 0 ? 'ok' : `${t.codespace}/${t.code}`;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
    if (t.code !== 0) failed.push({ index, code: t.code, codespace: t.codespace, log: t.log });
    for (const e of t.events) events[e.type] = (events[e.type] ?? 0) + 1;
  });
  for (const e of r.events) events[e.type] = (events[e.type] ?? 0) + 1;
  return { outcomes, failed, events };
}

/** Replay a node's block log from genesis and compare every app hash. */
export function verifyChain(o: VerifyOptions): VerifyResult {
  const t0 = performance.now();
  const { genesis: genesisPath, db: dbPath, genesisOptional } = resolvePaths(o);
  let store: SqliteStore;
  try {
    store = new SqliteStore(dbPath, { readonly: true });
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(
      /no such table/.test(m)
        ? `${dbPath} was written by an older perpchain (${m}); open it once with the current node (it upgrades the store) or verify a copy with a current node's tools`
        : `cannot open ${dbPath} read-only: ${m}`,
    );
  }
  const restoredAt = store.meta('restored_height')?.toString();
  if (restoredAt !== undefined) {
    store.close();
    throw new Error(`${dbPath} was restored by state sync at height ${restoredAt}: it holds no blocks before that height and no genesis record, so it cannot be replayed from genesis (verify a node that synced from blocks)`);
  }
  const problems: string[] = [];
  store.beginSnapshot(); // a live node keeps committing: read its log, height and state as of one moment
  // With --home (no --genesis), replay from the InitChain request the node recorded: under CometBFT that is
  // CometBFT's genesis (its time, validators, params), not the home's own genesis.json, which differs (or is
  // not there at all: `perpchain abci` needs no init).
  const recorded = o.genesis === undefined ? store.meta('init_chain') : undefined;
  let genesis: GenesisDoc | undefined;
  if (!recorded) {
    if (genesisOptional && !existsSync(genesisPath)) {
      store.close();
      throw new Error(`no genesis at ${genesisPath}, and ${dbPath} recorded no InitChain request to replay from`);
    }
    try {
      genesis = readGenesis({ genesis: genesisPath } as never);
    } catch (e) {
      store.close(); // a library caller (or a test) goes on after the error: no open handle left behind
      throw e;
    }
  }
  const node = store.lastCommitted();
  const res: VerifyResult = {
    ok: false,
    chainId: genesis?.chain_id ?? '',
    genesis: recorded ? `the InitChain request recorded in ${dbPath}` : genesisPath,
    genesisFromStore: recorded !== undefined,
    db: dbPath,
    blocks: 0,
    txs: 0,
    firstHeight: 0n,
    lastHeight: 0n,
    nodeHeight: node.height,
    nodeAppHash: hex(node.appHash),
    finalAppHash: '',
    mismatchedHeights: 0,
    problems,
    stateDiff: [],
    ms: 0,
  };
  const app = App.open({ checkInvariantsEveryBlock: o.checkInvariants ?? false });
  try {
    const init = recorded
      ? decodeInitChainRecord(recorded)
      : genesis && {
          chainId: genesis.chain_id,
          timeNs: rfc3339ToNs(genesis.genesis_time),
          initialHeight: BigInt(genesis.initial_height || '1'),
          appStateBytes: Buffer.from(JSON.stringify(genesis.app_state ?? {})),
          consensusParams: consensusParamsOf(genesis),
          // A chain run under CometBFT recorded its genesis validators (their keys check vote extensions); the
          // devnet records none. The node's state says which of the two this home is.
          validators: store.hasPrefix('app/val/') ? genesisValidators(genesis) : [],
        };
    if (!init) throw new Error('unreachable: no genesis and no recorded InitChain');
    res.chainId = init.chainId;
    const storedChain = store.meta('chain_id')?.toString();
    if (storedChain !== undefined && storedChain !== init.chainId) problems.push(`the store is of chain "${storedChain}", the genesis of "${init.chainId}"`);
    const initialHeight = init.initialHeight;
    app.initChain(init);
    let expect = initialHeight;
    let lastProgress = performance.now();
    let pendingClassify: Mismatch | undefined;
    for (const row of store.blocks(0n)) {
      if (row.height !== expect) {
        problems.push(
          expect === initialHeight
            ? `the block log starts at height ${row.height}, not at the initial height ${initialHeight}: older blocks were pruned (retain_blocks), so the chain cannot be replayed from genesis`
            : `the block log jumps from height ${expect - 1n} to ${row.height}: blocks are missing`,
        );
        break;
      }
      let rec: ReturnType<typeof decodeBlockRecord>;
      try {
        rec = decodeBlockRecord(row.record);
      } catch (e) {
        problems.push(`the block log record at height ${row.height} does not decode: ${(e as Error).message}`);
        break;
      }
      if (rec.height !== row.height) {
        problems.push(`the block log record stored at height ${row.height} says height ${rec.height}`);
        break;
      }
      if (res.blocks === 0) res.firstHeight = rec.height;
      let r: FinalizeBlockResult;
      try {
        r = app.finalizeBlock({ txs: rec.txs, height: rec.height, timeNs: rec.timeNs, hash: rec.hash, proposerAddress: rec.proposerAddress });
      } catch (e) {
        const mm: Mismatch = { height: rec.height, recorded: hex(rec.appHash), computed: '(replay stopped)', outcomes: {}, failed: [], events: {} };
        if (e instanceof InvariantBrokenError) mm.invariants = e.message;
        else problems.push(`replaying height ${rec.height} failed: ${(e as Error).message}`);
        res.mismatch ??= mm;
        res.mismatchedHeights++;
        break;
      }
      app.commit();
      res.blocks++;
      res.txs += rec.txs.length;
      res.lastHeight = rec.height;
      const computed = hex(r.appHash);
      const recorded = hex(rec.appHash);
      if (computed !== recorded) {
        res.mismatchedHeights++;
        if (!res.mismatch) {
          res.mismatch = { height: rec.height, recorded, computed, ...summarize(r) };
          pendingClassify = res.mismatch;
          if (o.stopAtFirst) break;
        }
      } else if (pendingClassify) {
        // the replay agrees again after the first difference: only recorded hashes differed
        pendingClassify.kind = 'isolated';
        pendingClassify = undefined;
      }
      expect = rec.height + 1n;
      const now = performance.now();
      if (o.onProgress && now - lastProgress >= (o.progressMs ?? 1000)) {
        lastProgress = now;
        o.onProgress({ height: rec.height, last: node.height, blocks: res.blocks, txs: res.txs, ms: now - t0 });
      }
    }
    if (pendingClassify) pendingClassify.kind = pendingClassify.height === res.lastHeight ? 'last' : 'persistent';
    res.finalAppHash = hex(app.appHash);
    if (res.blocks === 0 && problems.length === 0) problems.push('the block log is empty (a node started with blockLog: false, or nothing was committed yet)');
    // The node's own state must be what the replay produced.
    if (problems.length === 0 && !o.stopAtFirst && !res.mismatch) {
      if (res.lastHeight !== node.height) problems.push(`the block log ends at ${res.lastHeight}, the node's state is at height ${node.height}`);
      else {
        if (res.finalAppHash !== res.nodeAppHash) problems.push(`the node's committed app hash ${res.nodeAppHash} ≠ replayed ${res.finalAppHash}`);
        try {
          res.stateDiff = diffState(store, app);
        } catch (e) {
          problems.push((e as Error).message);
        }
        if (res.stateDiff.length) problems.push(`the node's state differs from the replayed state in ${res.stateDiff.length >= 20 ? '20 or more' : res.stateDiff.length} keys`);
      }
    }
  } finally {
    store.endSnapshot();
    store.close();
    app.close();
  }
  res.ok = !res.mismatch && res.mismatchedHeights === 0 && problems.length === 0;
  res.ms = performance.now() - t0;
  return res;
}

/** CometBFT's genesis validators ({pub_key: {type, value}, power}) as InitChain gives them to the App. */
function genesisValidators(g: GenesisDoc): Array<{ pubKeyType: 'ed25519' | 'secp256k1'; pubKeyBytes: Uint8Array; power: bigint }> {
  return (g.validators as Array<{ pub_key?: { type?: string; value?: string }; power?: string }>).map((v, i) => {
    const type = v.pub_key?.type === 'tendermint/PubKeyEd25519' ? 'ed25519' : v.pub_key?.type === 'tendermint/PubKeySecp256k1' ? 'secp256k1' : undefined;
    if (!type || !v.pub_key?.value || !/^[0-9]+$/.test(v.power ?? '')) throw new Error(`genesis validators[${i}]: expected {pub_key: {type: tendermint/PubKeyEd25519 | tendermint/PubKeySecp256k1, value: base64}, power: "N"}`);
    return { pubKeyType: type, pubKeyBytes: new Uint8Array(Buffer.from(v.pub_key.value, 'base64')), power: BigInt(v.power!) };
  });
}

/** Keys whose values differ between the node's kv table and the App's committed state (first 20). */
function diffState(store: SqliteStore, app: App): string[] {
  const state = app.state as CommittedState;
  const replayed = new Map<string, Uint8Array>(state.entries());
  const out: string[] = [];
  for (const row of store.loadAll()) {
    const v = replayed.get(row.key);
    if (!v) out.push(`${row.key} (only in the node's state)`);
    else if (!Buffer.from(v).equals(row.value)) out.push(`${row.key} (different value)`);
    replayed.delete(row.key);
    if (out.length >= 20) return out;
  }
  for (const k of replayed.keys()) {
    out.push(`${k} (only in the replay)`);
    if (out.length >= 20) break;
  }
  return out;
}

/** A human report of a verification (what `perpchain verify` prints). */
export function formatVerifyResult(r: VerifyResult): string {
  const lines: string[] = [];
  lines.push(`chain ${r.chainId}: replayed ${r.blocks} blocks (${r.firstHeight}–${r.lastHeight}, ${r.txs} txs) from ${r.genesisFromStore ? r.genesis : `${r.genesis} and ${r.db}`} in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.ok) {
    lines.push(`OK: every recorded app hash matches the replay; the node's state at height ${r.nodeHeight} equals the replayed state (app hash ${r.finalAppHash})`);
    return lines.join('\n');
  }
  if (r.mismatch) {
    const m = r.mismatch;
    lines.push(`MISMATCH at height ${m.height}:`);
    lines.push(`  recorded app hash  ${m.recorded}`);
    lines.push(`  replayed app hash  ${m.computed}`);
    if (m.kind === 'isolated') lines.push('  later heights agree again: only the app hash recorded at this height differs (the log entry was altered, or the node wrote a wrong hash)');
    if (m.kind === 'persistent') lines.push(`  the replay keeps differing after it (${r.mismatchedHeights} heights in all): the state diverged at this height — a tx, the time or the proposer of this block differs from what the node executed, or the node computed it differently`);
    if (m.kind === 'last') lines.push('  it is the last block of the log');
    if (Object.keys(m.outcomes).length) lines.push(`  replay tx results: ${Object.entries(m.outcomes).map(([k, v]) => `${k}×${v}`).join(', ')}`);
    const suspicious = m.failed.filter((f) => f.codespace === 'tx' && [2, 3, 4, 5, 6, 7, 9, 10, 11, 18, 20].includes(f.code));
    for (const f of (suspicious.length ? suspicious : m.failed).slice(0, 10)) lines.push(`    tx #${f.index}: ${f.codespace}/${f.code} ${f.log}`);
    if (suspicious.length) lines.push('  (a tx that no longer decodes or whose signature no longer verifies was most likely changed after it was executed)');
    if (Object.keys(m.events).length) lines.push(`  replay events: ${Object.entries(m.events).map(([k, v]) => `${k}×${v}`).join(', ')}`);
    if (m.invariants) lines.push(`  ${m.invariants.replace(/\n/g, '\n  ')}`);
  }
  for (const p of r.problems) lines.push(`PROBLEM: ${p}`);
  if (r.stateDiff.length) lines.push(`  differing keys: ${r.stateDiff.join(', ')}`);
  return lines.join('\n');
}
