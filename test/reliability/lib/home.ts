/**
 * Node homes for the verifier and invariant tests: a home exactly as a node
 * leaves it (config/genesis.json in the CometBFT/devnet shape, data/state.db
 * with the state and the block log written by the App itself), filled with
 * traffic blocks; and tools to tamper with one afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { App, decodeBlockRecord, encodeBlockRecord } from '../../../chain/app.js';
import { encodeInt, decodeInt } from '../../../chain/codec/amount.js';
import { consensusParamsOf, defaultConsensusParamsJson, rfc3339ToNs, type GenesisDoc } from '../../../chain/devnet/home.js';
import { MerkleIndex, leafHash } from '../../../chain/store/merkle.js';
import { SqliteStore } from '../../../chain/store/sqlite.js';
import type { FinalizeBlockRequest } from '../../../chain/types.js';
import { Traffic } from './traffic.js';
import { hex } from './wire.js';

export interface BuiltHome {
  home: string;
  genesis: string;
  db: string;
  blocks: FinalizeBlockRequest[];
  /** hashes[h] = app hash after block h. */
  hashes: string[];
  traffic: Traffic;
}

export function genesisDoc(t: Traffic, genesisTimeNs: bigint): GenesisDoc {
  const ms = Number(genesisTimeNs / 1_000_000n);
  return {
    genesis_time: new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${(genesisTimeNs % 1_000_000_000n).toString().padStart(9, '0')}Z`),
    chain_id: t.chainId,
    initial_height: '1',
    consensus_params: defaultConsensusParamsJson(),
    validators: [],
    app_hash: '',
    app_state: t.appState,
  };
}

/** A home whose App ran `n` traffic blocks (InitChain from the genesis file, as a node does). */
export function buildHome(dir: string, n: number, seed: number, txsPerBlock = 10): BuiltHome {
  const home = dir;
  mkdirSync(join(home, 'config'), { recursive: true });
  mkdirSync(join(home, 'data'), { recursive: true });
  const traffic = new Traffic({ seed, txsPerBlock });
  const doc = genesisDoc(traffic, traffic.initChain().timeNs);
  const genesis = join(home, 'config', 'genesis.json');
  writeFileSync(genesis, JSON.stringify(doc, null, 2) + '\n');
  const db = join(home, 'data', 'state.db');
  const app = App.open({ dbPath: db });
  app.initChain({ chainId: doc.chain_id, timeNs: rfc3339ToNs(doc.genesis_time), initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(doc.app_state)), consensusParams: consensusParamsOf(doc) });
  const blocks: FinalizeBlockRequest[] = [];
  const hashes = [''];
  for (let i = 0; i < n; i++) {
    const req = traffic.next(app);
    app.finalizeBlock(req);
    app.commit();
    blocks.push(req);
    hashes.push(hex(app.appHash));
  }
  app.close();
  return { home, genesis, db, blocks, hashes, traffic };
}

/** Rewrite the block-log record at `height` through `edit`. */
export function tamperRecord(db: string, height: bigint, edit: (r: ReturnType<typeof decodeBlockRecord>) => void): void {
  const d = new Database(db);
  try {
    const row = d.prepare('SELECT record FROM blocks WHERE height = ?').get(height) as { record: Buffer };
    const r = decodeBlockRecord(row.record);
    edit(r);
    d.prepare('UPDATE blocks SET record = ? WHERE height = ?').run(Buffer.from(encodeBlockRecord(r, r.appHash)), height);
  } finally {
    d.close();
  }
}

export function deleteRecords(db: string, where: string): void {
  const d = new Database(db);
  try {
    d.prepare(`DELETE FROM blocks WHERE ${where}`).run();
  } finally {
    d.close();
  }
}

/**
 * Change one state value on disk *consistently*: new value, its Merkle leaf,
 * and the committed app hash recomputed over all leaves — so the node's
 * start-up checks (leaf per value, root = committed hash) pass and only the
 * invariants (or a replay) can tell. Models a bug that committed a wrong
 * state, or a deliberate edit.
 */
/** `relog`: also put the new hash in the last block record (else the node's start-up check refuses the store). */
export function corruptValue(db: string, key: string, change: (v: Buffer) => Buffer, relog = true): { before: Buffer; after: Buffer } {
  // merge the logged change sets into kv first (as a node does between blocks), so kv is the whole state
  const s = new SqliteStore(db);
  s.checkpoint();
  s.close();
  const d = new Database(db);
  try {
    const row = d.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: Buffer } | undefined;
    if (!row) throw new Error(`no key ${key}`);
    const after = change(row.value);
    d.prepare('UPDATE kv SET value = ?, leaf = ? WHERE key = ?').run(after, leafHash(key, after), key);
    const m = new MerkleIndex();
    for (const r of d.prepare('SELECT key, leaf FROM kv ORDER BY key').iterate() as Iterable<{ key: string; leaf: Buffer }>) m.loadLeaf(r.key, r.leaf);
    m.rebuild();
    d.prepare("UPDATE meta SET value = ? WHERE name = 'app_hash'").run(m.root());
    // and the last block's logged hash, which the start-up check compares with the committed one: the change
    // stays one that no start-up check can see (only the invariants, or a replay, can)
    const height = BigInt((d.prepare("SELECT value FROM meta WHERE name = 'height'").get() as { value: Buffer }).value.toString());
    const rec = d.prepare('SELECT record FROM blocks WHERE height = ?').get(height) as { record: Buffer } | undefined;
    if (rec && relog) d.prepare('UPDATE blocks SET record = ? WHERE height = ?').run(Buffer.from(encodeBlockRecord(decodeBlockRecord(rec.record), m.root())), height);
    return { before: row.value, after };
  } finally {
    d.close();
  }
}

/** Add `delta` uusdc to a bank balance on disk (consistently, see corruptValue). */
export function corruptBalance(db: string, address: string, delta: bigint, relog = true): void {
  corruptValue(db, `bank/bal/${address}`, (v) => Buffer.from(encodeInt(decodeInt(v) + delta)), relog);
}
